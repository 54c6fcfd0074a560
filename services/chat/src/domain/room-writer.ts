import type { ChatDb } from '../db/schema.js'
import type { ChatEvents } from '../events/chat-events.js'
import type { MessageStore, StoredMessage } from './messages.repository.js'

export interface RoomWriterOptions extends MessageStore {
  events: Pick<ChatEvents, 'message'>
  log: { error(obj: object, msg: string): void }
  /** Most messages stored in one statement. */
  maxBatch?: number
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
 * Stores and announces messages. Under the rooms' locks (held across instances) a message is
 * committed, then appended to `chat:events`, so a room's ids reach the stream in increasing
 * order and a message is in the history before anyone can see it. One write runs at a time:
 * whatever arrived meanwhile, in every room, goes next, in one statement that releases the
 * previous rooms, takes the new ones' locks and inserts, then one round of appends. Every
 * statement costs PostgreSQL a wake-up (and an insert a commit), and concurrent writers contend
 * inside it, so an instance under load writes few large batches rather than many small ones;
 * a quiet one is no slower.
 */
export function createRoomWriter(options: RoomWriterOptions) {
  const { db, messages, events, log } = options
  const maxBatch = options.maxBatch ?? 500
  const pending: Waiting[] = []
  let writing = false

  /** Appends a stored batch to the stream and settles each message's sender. */
  async function announce(stored: StoredMessage[], batch: Waiting[], conn: ChatDb) {
    // Sent back to back on one connection, so the stream keeps the ids' order.
    const announced = await Promise.allSettled(
      stored.map((message, i) => events.message((batch[i] as Waiting).room.name, message)),
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
   * Writes cycles on one connection until nothing is pending. A cycle lets go of the previous
   * cycle's rooms in the same statement as it takes its own: a busy instance pays one statement
   * per cycle, and the other instances get the rooms between two cycles.
   */
  async function writeCycles(conn: ChatDb) {
    let held: number[] = []
    try {
      while (pending.length > 0) {
        const batch = pending.splice(0, maxBatch)
        const roomIds = [...new Set(batch.map((message) => message.room.id))].sort((a, b) => a - b)
        let stored: StoredMessage[]
        try {
          stored = await messages.lockRoomsAndInsert(
            roomIds,
            batch.map(({ room, userId, username, body }) => ({
              roomId: room.id,
              userId,
              username,
              body,
            })),
            conn,
            held,
          )
        } catch (error) {
          // Which locks the failed statement took or released is unknown: none stays held, and
          // the senders hear of the failure once the rooms are free again.
          held = []
          try {
            await messages.unlockAll(conn)
          } finally {
            for (const waiting of batch) waiting.reject(error)
          }
          continue
        }
        held = roomIds
        await announce(stored, batch, conn)
        if (pending.length === 0) {
          await messages.unlockRooms(held, conn)
          held = []
        }
      }
    } finally {
      // Only when a statement threw: the connection is then likely gone, and its locks with it.
      if (held.length > 0) await messages.unlockAll(conn).catch(() => {})
    }
  }

  async function drain() {
    writing = true
    while (pending.length > 0) {
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
    /** Resolves once the message is stored and announced; rejects if it is neither. */
    post(message: OutgoingMessage): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        pending.push({ ...message, resolve, reject })
        if (!writing) void drain()
      })
    },
  }
}

export type RoomWriter = ReturnType<typeof createRoomWriter>
