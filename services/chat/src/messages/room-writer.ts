import type { Bus } from '@finchat/bus'
import { type ChatEvent, formatStamp, STREAMS } from '@finchat/protocol'
import type { ChatDb } from '../db/schema.js'
import type { MessagesRepository, StoredMessage } from './messages.repository.js'

export interface RoomWriterOptions {
  db: ChatDb
  messages: MessagesRepository
  bus: Bus
  instanceId: string
  log: { error(obj: object, msg: string): void }
  /** Most messages stored in one statement. */
  maxBatch?: number
  /** Most batches written under one hold of a room's lock. */
  maxHeld?: number
}

export interface OutgoingMessage {
  room: { id: number; name: string }
  userId: number
  username: string
  body: string
}

interface Waiting extends OutgoingMessage {
  resolve(): void
  reject(error: unknown): void
}

/**
 * Stores and announces messages, room by room. Under the room's lock (held across instances) a
 * message is committed, then appended to `chat:events`, so ids reach the stream in increasing
 * order and a message is in the history before anyone can see it. Messages for a room that
 * arrive while its lock is held here wait and then go together: one lock, one insert and one
 * round of appends for the lot, instead of four round trips each. A busy room costs less per
 * message, and a quiet one is no slower.
 */
export function createRoomWriter(options: RoomWriterOptions) {
  const { db, messages, bus, instanceId, log } = options
  const maxBatch = options.maxBatch ?? 200
  const maxHeld = options.maxHeld ?? 4
  const queues = new Map<number, Waiting[]>()

  /** Appends a stored batch to the stream and settles each message's sender. */
  async function announce(stored: StoredMessage[], batch: Waiting[], conn: ChatDb) {
    // Sent back to back on one connection, so the stream keeps the ids' order.
    const announced = await Promise.allSettled(
      stored.map((message, i) =>
        bus.append(STREAMS.chatEvents, {
          type: 'room.message',
          id: message.id,
          room: (batch[i] as Waiting).room.name,
          user: message.username,
          body: message.body,
          stamp: formatStamp(message.created_at),
          instance: instanceId,
        } satisfies ChatEvent),
      ),
    )
    const unannounced = stored.filter((_, i) => announced[i]?.status === 'rejected')
    if (unannounced.length > 0) {
      // Not announced, so not kept: their senders get an error and may send them again.
      await messages
        .removeMany(
          unannounced.map((message) => message.id),
          conn,
        )
        .catch((removeError) => {
          log.error(
            { err: removeError, messages: unannounced.map((message) => message.id) },
            'could not remove unannounced messages',
          )
        })
    }
    for (const [i, waiting] of batch.entries()) {
      const outcome = announced[i]
      if (outcome?.status === 'rejected') waiting.reject(outcome.reason)
      else waiting.resolve()
    }
  }

  /**
   * Writes the room's queue in batches under one hold of its lock: batches that queued up
   * meanwhile follow without letting go, up to `maxHeld`, so that a busy room pays for the lock
   * once per burst; then the lock is released, for the other instances' writers.
   */
  async function holdAndWrite(roomId: number, queue: Waiting[]) {
    await db.connection().execute(async (conn) => {
      let locked = false
      try {
        for (let held = 0; held < maxHeld && queue.length > 0; held++) {
          const batch = queue.splice(0, maxBatch)
          try {
            const stored = locked
              ? await messages.insertMany(roomId, batch, conn)
              : await messages.lockRoomAndInsert(roomId, batch, conn)
            locked = true
            await announce(stored, batch, conn)
          } catch (error) {
            for (const waiting of batch) waiting.reject(error)
            // Whether the lock was taken is unknown: the unlock below finds out.
            locked = true
            break
          }
        }
      } finally {
        // Also after a failed insert: a session lock outlives the statement that took it.
        if (locked) await messages.unlockRoom(roomId, conn)
      }
    })
  }

  async function drain(roomId: number, queue: Waiting[]) {
    while (queue.length > 0) {
      await holdAndWrite(roomId, queue).catch((error) => {
        // No connection, or the unlock failed (the connection is then gone, and the lock with it).
        for (const waiting of queue.splice(0)) waiting.reject(error)
      })
    }
    queues.delete(roomId)
  }

  return {
    /** Resolves once the message is stored and announced; rejects if it is neither. */
    post(message: OutgoingMessage): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        const waiting = { ...message, resolve, reject }
        const queue = queues.get(message.room.id)
        if (queue) {
          queue.push(waiting)
          return
        }
        const fresh = [waiting]
        queues.set(message.room.id, fresh)
        void drain(message.room.id, fresh)
      })
    },
  }
}

export type RoomWriter = ReturnType<typeof createRoomWriter>
