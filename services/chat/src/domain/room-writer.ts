import type { Card } from '@finchat/protocol'
import type { ChatDb } from '../db/schema.js'
import type { ChatEvents } from '../events/chat-events.js'
import type { MessageStore, NamedMessage, StoredMessage } from './messages.repository.js'
import { createAnnouncementCheck } from './unannounced-messages.js'

export interface RoomWriterOptions extends MessageStore {
  events: Pick<ChatEvents, 'message' | 'readRoomEvents'>
  log: { error(obj: object, msg: string): void; warn(obj: object, msg: string): void }
  /** Most messages stored in one statement. */
  maxBatch?: number
  /**
   * Whether other writers share the database (PostgreSQL, default): the rooms' advisory locks
   * order them. False for one session (PGlite), where such locks are re-entrant and order
   * nothing: holding the connection from insert to announcement orders this writer's rooms,
   * and a statement fewer per quiet cycle (the unlock) halves what one costs PGlite.
   */
  roomLocks?: boolean
  /**
   * While messages keep coming, the least time in ms between the starts of two inserts: what
   * arrives meanwhile goes in one statement, and the connection is free between them. 0
   * (default): the next insert starts once the previous is announced, on the same connection.
   * A message after a quiet spell never waits for it.
   */
  batchWindowMs?: number
}

export interface OutgoingMessage {
  room: { id: number; name: string }
  userId: number
  username: string
  body: string
  /** The sender's name for it (`client_id`): sent again, it is not stored again. */
  clientId?: string
  /** A bot account's card, checked already. */
  card?: Card
}

/**
 * What became of a posted message: stored and announced (its sender sees it come back from the
 * stream), or `repeated`, the message stored earlier under the same name, which stays as it was.
 */
export interface Posted {
  repeated?: StoredMessage
}

interface Waiting extends OutgoingMessage {
  resolve(posted: Posted): void
  reject(error: unknown): void
}

type Outcome = { ok: true } | { ok: false; reason: unknown }

const OK: Outcome = { ok: true }

const nameOf = (message: Waiting): string | undefined =>
  message.clientId === undefined
    ? undefined
    : `${message.room.id}:${message.userId}:${message.clientId}`

/**
 * Stores and announces messages. Under the rooms' locks (held across instances) a message is
 * committed, then appended to `chat:events`, so a room's ids reach the stream in increasing
 * order and a message is in the history before anyone can see it. One write runs at a time:
 * whatever arrived meanwhile, in every room, goes next, in one statement that releases the
 * previous rooms, takes the new ones' locks and inserts, then one round of appends. Every
 * statement costs PostgreSQL a wake-up (and an insert a commit), and concurrent writers contend
 * inside it, so an instance under load writes few large batches rather than many small ones;
 * a quiet one is no slower. A message sent again under the name it was stored with is not
 * stored again: its sender is answered with the one stored, and nothing is announced.
 */
export function createRoomWriter(options: RoomWriterOptions) {
  const { db, messages, events, log } = options
  const maxBatch = options.maxBatch ?? 500
  const roomLocks = options.roomLocks ?? true
  const batchWindowMs = options.batchWindowMs ?? 0
  const check = createAnnouncementCheck({ events, log })
  const pending: Waiting[] = []
  let writing = false
  let lastInsert = Number.NEGATIVE_INFINITY

  /**
   * Of messages whose append was refused, those the stream holds after all (only the reply was
   * lost), those it does not hold, and those it cannot tell about (unreadable, or not reaching
   * back to them).
   */
  async function whereRefused(refused: StoredMessage[]) {
    const verdict = new Map<number, 'announced' | 'absent' | 'unknown'>()
    try {
      // The bus reads on the connection it appends on: an append whose reply is only late is
      // seen here, rather than landing once its message is gone.
      const found = await check.unannounced(refused, { messages: refused.map((m) => m.id) })
      for (const { id } of refused) {
        verdict.set(id, !found ? 'unknown' : found.missing.has(id) ? 'absent' : 'announced')
      }
    } catch (err) {
      log.error({ err, messages: refused.map((m) => m.id) }, 'could not read the event stream')
      for (const { id } of refused) verdict.set(id, 'unknown')
    }
    return verdict
  }

  /**
   * Appends a stored batch to the stream; each message's outcome. A message whose append was
   * refused is removed only if the stream shows that nobody can have received it: then its
   * sender is refused and may send it again. One the stream holds is announced after all. One
   * it cannot tell about is kept, since members may have it, and its sender is refused: sent
   * again under its name, it is answered with the kept one.
   */
  async function announce(stored: StoredMessage[], batch: Waiting[], conn: ChatDb) {
    // Sent back to back on one connection, so the stream keeps the ids' order.
    const announced = await Promise.allSettled(
      stored.map((message, i) => {
        const { room, clientId } = batch[i] as Waiting
        return events.message(room.name, { ...message, clientId })
      }),
    )
    const refused = stored.filter((_, i) => announced[i]?.status === 'rejected')
    const verdict = refused.length > 0 ? await whereRefused(refused) : new Map<number, never>()
    const absent = refused.filter((message) => verdict.get(message.id) === 'absent')
    if (absent.length > 0) {
      await messages
        .removeMany(
          absent.map((message) => message.id),
          conn,
        )
        .catch((removeError) => {
          log.error(
            { err: removeError, messages: absent.map((message) => message.id) },
            'could not remove unannounced messages',
          )
        })
    }
    const late = refused.filter((message) => verdict.get(message.id) === 'announced')
    const kept = refused.filter((message) => verdict.get(message.id) === 'unknown')
    if (late.length > 0) {
      log.warn({ messages: late.map((m) => m.id) }, 'appends refused, yet on the stream: kept')
    }
    if (kept.length > 0) {
      log.error(
        { messages: kept.map((m) => m.id) },
        'appends refused, and the stream cannot tell whether they landed: kept, senders refused',
      )
    }
    return stored.map((message, i): Outcome => {
      const outcome = announced[i]
      if (outcome?.status !== 'rejected' || verdict.get(message.id) === 'announced') return OK
      return { ok: false, reason: outcome.reason }
    })
  }

  /**
   * Settles the senders of a stored batch (`stored` aligned with `batch`, `undefined` for a
   * message repeated). A repeat of a message of the same batch shares its outcome; one of a
   * message stored before is answered with it, read once the rooms are ours (so a writer that
   * was announcing it has finished).
   */
  async function settle(stored: (StoredMessage | undefined)[], batch: Waiting[], conn: ChatDb) {
    const fresh = batch.flatMap((waiting, i) => {
      const message = stored[i]
      return message ? [{ waiting, message }] : []
    })
    const outcomes = await announce(
      fresh.map((f) => f.message),
      fresh.map((f) => f.waiting),
      conn,
    )
    const inBatch = new Map<string, { message: StoredMessage; outcome: Outcome }>()
    for (const [i, { waiting, message }] of fresh.entries()) {
      const outcome = outcomes[i] as Outcome
      if (outcome.ok) waiting.resolve({})
      else waiting.reject(outcome.reason)
      const name = nameOf(waiting)
      if (name !== undefined) inBatch.set(name, { message, outcome })
    }

    const earlier: Waiting[] = []
    for (const [i, waiting] of batch.entries()) {
      if (stored[i]) continue
      const original = inBatch.get(nameOf(waiting) as string)
      if (!original) earlier.push(waiting)
      else if (original.outcome.ok) waiting.resolve({ repeated: original.message })
      else waiting.reject(original.outcome.reason)
    }
    if (earlier.length === 0) return
    try {
      const named = earlier.map(
        ({ room, userId, clientId }): NamedMessage => ({
          roomId: room.id,
          userId,
          clientId: clientId as string,
        }),
      )
      const found = new Map(
        (await messages.originals(named, conn)).map((original) => [
          `${original.roomId}:${original.userId}:${original.clientId}`,
          original,
        ]),
      )
      for (const waiting of earlier) {
        const original = found.get(nameOf(waiting) as string)
        if (!original) waiting.reject(new Error('the repeated message is gone (room deleted?)'))
        else {
          // The stored message without its name (`originals` already leaves out a missing card).
          const { roomId: _room, userId: _user, clientId: _name, ...repeated } = original
          waiting.resolve({ repeated })
        }
      }
    } catch (error) {
      for (const waiting of earlier) waiting.reject(error)
    }
  }

  /**
   * Writes cycles on one connection until nothing is pending (or one, with a batch window). A
   * cycle lets go of the previous cycle's rooms in the same statement as it takes its own: a
   * busy instance pays one statement per cycle, and the other instances get the rooms between
   * two cycles.
   */
  async function writeCycles(conn: ChatDb) {
    let held: number[] = []
    try {
      while (pending.length > 0) {
        const batch = pending.splice(0, maxBatch)
        const roomIds = [...new Set(batch.map((message) => message.room.id))].sort((a, b) => a - b)
        const rows = batch.map(({ room, userId, username, body, clientId, card }) => ({
          roomId: room.id,
          userId,
          username,
          body,
          clientId,
          card,
        }))
        let stored: (StoredMessage | undefined)[]
        try {
          stored = roomLocks
            ? await messages.lockRoomsAndInsert(roomIds, rows, conn, held)
            : await messages.insert(rows, conn)
        } catch (error) {
          // Which locks the failed statement took or released is unknown: none stays held, and
          // the senders hear of the failure once the rooms are free again.
          held = []
          try {
            if (roomLocks) await messages.unlockAll(conn)
          } finally {
            for (const waiting of batch) waiting.reject(error)
          }
          continue
        }
        if (roomLocks) held = roomIds
        await settle(stored, batch, conn)
        if (pending.length === 0 || batchWindowMs > 0) {
          if (held.length > 0) await messages.unlockRooms(held, conn)
          held = []
          return
        }
      }
    } finally {
      // Only when a statement threw: the connection is then likely gone, and its locks with it.
      if (held.length > 0) await messages.unlockAll(conn).catch(() => {})
    }
  }

  async function drain() {
    while (pending.length > 0) {
      const wait = lastInsert + batchWindowMs - performance.now()
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      lastInsert = performance.now()
      await db
        .connection()
        .execute(writeCycles)
        .catch((error) => {
          // No connection, or it failed under a cycle: those waiting get the error.
          for (const waiting of pending.splice(0)) waiting.reject(error)
        })
    }
    writing = false
  }

  return {
    /**
     * Resolves once the message is stored and announced, or found stored under its name;
     * rejects if it is neither.
     */
    post(message: OutgoingMessage): Promise<Posted> {
      return new Promise<Posted>((resolve, reject) => {
        pending.push({ ...message, resolve, reject })
        if (!writing) {
          writing = true
          // With a window, after the frames read with this one: those of the same moment share
          // its statement. Without, at once (PostgreSQL: a statement is cheap, a wait is not).
          if (batchWindowMs > 0) setImmediate(drain)
          else void drain()
        }
      })
    },
  }
}

export type RoomWriter = ReturnType<typeof createRoomWriter>
