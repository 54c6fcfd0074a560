import { sql } from 'kysely'
import type { ChatEvents } from '../events/chat-events.js'
import type { MessageStore } from './messages.repository.js'
import { createRoomsRepository } from './rooms.repository.js'

const PAGE = 1000

export interface AnnouncementCheckOptions {
  events: Pick<ChatEvents, 'readRoomEvents'>
  log: { warn(obj: object, msg: string): void }
  /** Clock difference tolerated between the instances, PostgreSQL and Redis. */
  clockSlackMs?: number
}

/**
 * Whether stored messages were announced, as `chat:events` shows it. Whoever must decide whether
 * a stored message may be removed, because nobody can have received it, asks here: the reaper
 * of a dead instance, and a writer whose append failed (perhaps only its reply was lost).
 */
export function createAnnouncementCheck(options: AnnouncementCheckOptions) {
  const { events, log } = options
  const clockSlackMs = options.clockSlackMs ?? 10_000

  /** Drops from `pending` every message announced after the stream id `after`; the last id read. */
  async function readAnnounced(pending: Set<number>, after: string): Promise<string> {
    let position = after
    for (;;) {
      const page = await events.readRoomEvents(position, PAGE)
      for (const { id, data } of page) {
        position = id
        if (data.type === 'room.message') pending.delete(data.id)
      }
      if (page.length < PAGE || pending.size === 0) return position
    }
  }

  return {
    /**
     * The messages the stream does not hold, and how far it was read (to look again later
     * from there); `undefined` when the stream cannot tell. Throws when it cannot be read.
     */
    async unannounced(
      candidates: { id: number; created_at: Date }[],
      context: object,
    ): Promise<{ missing: Set<number>; position: string } | undefined> {
      if (candidates.length === 0) return { missing: new Set(), position: '0' }
      const earliest = Math.min(...candidates.map((m) => m.created_at.getTime()))
      // The stream must reach back to the candidates, or an announced message would be taken
      // for an unannounced one (a stream trimmed, or emptied by a Redis restart). A young
      // stream that starts less than the slack before the candidates holds all their
      // announcements.
      const [first] = await events.readRoomEvents('0', 1)
      if (!first || Number(first.id.split('-')[0]) > earliest) {
        log.warn(
          { ...context, candidates: candidates.length },
          'the event stream does not reach back far enough to check for unannounced messages',
        )
        return undefined
      }
      const missing = new Set(candidates.map((m) => m.id))
      const position = await readAnnounced(missing, `${earliest - clockSlackMs}-0`)
      return { missing, position }
    },

    /** Of `ids`, those still not announced after the stream id `position`. */
    async stillUnannounced(ids: Iterable<number>, position: string): Promise<Set<number>> {
      const missing = new Set(ids)
      await readAnnounced(missing, position)
      return missing
    },
  }
}

export type AnnouncementCheck = ReturnType<typeof createAnnouncementCheck>

export interface UnannouncedMessagesOptions extends MessageStore, AnnouncementCheckOptions {
  events: Pick<ChatEvents, 'readRoomEvents' | 'closeRoomUpTo'>
  /** How far before its last heartbeat a dead instance may have stored a message in flight. */
  inFlightMs?: number
  /** Longest wait for a room lock held by an instance that is silent but not dead. */
  lockTimeoutMs?: number
}

/**
 * A message is stored, then announced on `chat:events`, under the room's lock. An instance killed
 * between the two leaves a message in the history that nobody received and whose sender saw no
 * echo. The survivor that reaps the instance removes such messages: for the dead instance's
 * users, what was stored shortly before its end and is not on the stream. Under the room's lock,
 * so that an instance that is only stalled, and announces after all, keeps its message.
 */
export function createUnannouncedMessages(options: UnannouncedMessagesOptions) {
  const { db, messages, log } = options
  const inFlightMs = options.inFlightMs ?? 15_000
  const lockTimeoutMs = options.lockTimeoutMs ?? 10_000
  const check = createAnnouncementCheck(options)
  const rooms = createRoomsRepository(db)

  return {
    /** Removes the unannounced messages of a dead instance's users; answers how many. */
    async remove(dead: { instanceId: string; userIds: number[]; lastBeatMs: number }) {
      if (dead.userIds.length === 0) return 0
      const candidates = await messages.recentByUsers(
        dead.userIds,
        new Date(dead.lastBeatMs - inFlightMs),
      )
      if (candidates.length === 0) return 0
      const found = await check.unannounced(candidates, { instance: dead.instanceId })
      if (!found || found.missing.size === 0) return 0
      const { missing: pending, position } = found

      const roomsOf = new Map<number, number[]>()
      for (const { id, room_id } of candidates) {
        if (pending.has(id)) roomsOf.set(room_id, [...(roomsOf.get(room_id) ?? []), id])
      }
      let removed = 0
      for (const [roomId, ids] of roomsOf) {
        removed += await db.transaction().execute(async (trx) => {
          await sql`select set_config('lock_timeout', ${`${lockTimeoutMs}ms`}, true)`.execute(trx)
          await messages.lockRoomUntilCommit(roomId, trx)
          // The lock proves nothing: PostgreSQL may have ended the idle session of an instance
          // that is only stalled. Closing the room up to these ids makes their late announcement
          // fail, so what the stream lacks now, it lacks for good.
          const name = await rooms.nameOf(roomId, trx)
          if (name !== undefined) await options.events.closeRoomUpTo(name, Math.max(...ids))
          // A stalled instance may have announced while we waited for its lock.
          const stillPending = await check.stillUnannounced(ids, position)
          if (stillPending.size > 0) await messages.removeMany([...stillPending], trx)
          return stillPending.size
        })
      }
      if (removed > 0) {
        log.warn(
          { instance: dead.instanceId, removed },
          'removed messages a dead instance stored but never announced',
        )
      }
      return removed
    },
  }
}

export type UnannouncedMessages = ReturnType<typeof createUnannouncedMessages>
