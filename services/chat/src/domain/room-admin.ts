import type { Bus } from '@finchat/bus'
import type { ChatDb, RoomRow } from '../db/schema.js'
import { createChatEvents } from '../events/chat-events.js'
import type { Presence } from '../presence/presence.js'
import { roomNameProblem } from './room-name.js'
import { createRoomsRepository, DuplicateRoomError } from './rooms.repository.js'

export interface RoomAdminDeps {
  db: ChatDb
  /** Absent: nobody is told (a CLI on an embedded database, with no running instance to tell). */
  bus?: Bus
  /** Where members of a deleted room are forgotten; absent when no presence store is reachable. */
  presence?: Pick<Presence, 'forgetRoom'>
  clock?: () => Date
}

export type CreateRoomResult = { ok: true; room: RoomRow } | { ok: false; problem: string }

export const DUPLICATE_ROOM = 'A room with that name already exists.'

/**
 * Room administration, the one way rooms are created and deleted, wherever it is asked for:
 * the REST routes, the admin CLI, the standalone's first start, the bench.
 */
export function createRoomAdmin(deps: RoomAdminDeps) {
  const rooms = createRoomsRepository(deps.db)
  const events = deps.bus ? createChatEvents({ bus: deps.bus, clock: deps.clock }) : undefined

  return {
    /** Every room, sorted by name in code-point order. */
    list(): Promise<RoomRow[]> {
      return rooms.list()
    },

    /** Creates the room, unless its name is refused or taken (in any letter case). */
    async create(name: string): Promise<CreateRoomResult> {
      const problem = roomNameProblem(name)
      if (problem) return { ok: false, problem }
      try {
        return { ok: true, room: await rooms.create(name) }
      } catch (error) {
        if (!(error instanceof DuplicateRoomError)) throw error
        return { ok: false, problem: DUPLICATE_ROOM }
      }
    },

    /**
     * Deletes the room (named in any letter case) and its history, forgets who was in it, and
     * tells every instance, which parts its members. The deleted room, or undefined if none.
     */
    async delete(name: string): Promise<RoomRow | undefined> {
      const room = await rooms.delete(name)
      if (!room) return undefined
      await deps.presence?.forgetRoom(room.name)
      await events?.roomDeleted(room.name)
      return room
    },
  }
}

export type RoomAdmin = ReturnType<typeof createRoomAdmin>
