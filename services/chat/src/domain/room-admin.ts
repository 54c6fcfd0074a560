import type { ChatDb, RoomRow } from '../db/schema.js'
import { announceRoomDeleted } from './room-announcements.js'
import { roomNameProblem } from './room-name.js'
import { createRoomsRepository, DuplicateRoomError } from './rooms.repository.js'

export interface RoomAdminDeps {
  db: ChatDb
  /**
   * Carries out what a deletion committed (a relay's flush), awaited so that a deletion that
   * answers has normally parted the members already. Absent: the running instances' relays
   * deliver it within a second, or the next instance to start.
   */
  announce?: () => Promise<unknown>
}

export type CreateRoomResult = { ok: true; room: RoomRow } | { ok: false; problem: string }

export const DUPLICATE_ROOM = 'A room with that name already exists.'

/**
 * Room administration, the one way rooms are created and deleted, wherever it is asked for:
 * the REST routes, the admin CLI, the standalone's first start, the bench.
 */
export function createRoomAdmin(deps: RoomAdminDeps) {
  const rooms = createRoomsRepository(deps.db)

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
     * Deletes the room (named in any letter case) and its history; the announcement, committed
     * with it, makes every instance forget who was in it and part its members. The deleted
     * room, or undefined if none.
     */
    async delete(name: string): Promise<RoomRow | undefined> {
      const room = await deps.db.transaction().execute(async (trx) => {
        const deleted = await rooms.delete(name, trx)
        if (deleted) await announceRoomDeleted(trx, deleted.name)
        return deleted
      })
      if (room) await deps.announce?.()
      return room
    },
  }
}

export type RoomAdmin = ReturnType<typeof createRoomAdmin>
