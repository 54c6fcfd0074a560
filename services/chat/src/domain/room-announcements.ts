import type { Bus } from '@finchat/bus'
import { createOutboxRelay, type OutboxRelay, writeToOutbox } from '@finchat/db'
import type { ChatDb } from '../db/schema.js'
import { createChatEvents } from '../events/chat-events.js'
import type { Presence } from '../presence/presence.js'

/** What chat's outbox carries: changes of rooms that every instance must hear of. */
interface ChatAnnouncements {
  'room.deleted': { room: string }
}

/**
 * Announces a room deleted, in the transaction that deleted it: the deletion and its
 * announcement commit together, and a relay carries it out when Redis takes it. Needs only the
 * database, so a CLI deletes the same way.
 */
export function announceRoomDeleted(trx: ChatDb, room: string): Promise<void> {
  return writeToOutbox<ChatAnnouncements, 'room.deleted'>(trx, 'room.deleted', { room })
}

export interface RoomAnnouncementsDeps {
  db: ChatDb
  bus: Bus
  /** Where members of a deleted room are forgotten. */
  presence: Pick<Presence, 'forgetRoom'>
  log: { warn(obj: object, msg: string): void }
  pollMs?: number
}

/**
 * Carries chat's announcements out: a deleted room's members are forgotten, then `room.deleted`
 * parts them on every instance. Every instance runs one (what a CLI wrote, what waited for
 * Redis); a deletion delivered twice parts nobody the second time.
 */
export function createRoomAnnouncements(deps: RoomAnnouncementsDeps): OutboxRelay {
  const events = createChatEvents({ bus: deps.bus })
  return createOutboxRelay<ChatAnnouncements>({
    db: deps.db,
    log: deps.log,
    pollMs: deps.pollMs,
    async deliver(_topic, { room }) {
      await deps.presence.forgetRoom(room)
      await events.roomDeleted(room)
    },
  })
}
