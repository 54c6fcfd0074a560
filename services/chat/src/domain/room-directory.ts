import type { RoomRow } from '../db/schema.js'
import type { RoomsRepository } from './rooms.repository.js'

/**
 * Rooms by exact name, remembered after the first lookup, so that a join costs no database
 * round trip for a room already known here. Rooms change only by an administrator creating
 * (not remembered until looked up) or deleting one, and every deletion reaches every instance
 * as a `room.deleted` event, which makes it forgotten.
 */
export function createRoomDirectory(rooms: RoomsRepository) {
  const known = new Map<string, RoomRow>()
  // Bumped by every deletion: a lookup that overlapped one may have read the deleted room.
  let deletions = 0

  return {
    async find(name: string): Promise<RoomRow | undefined> {
      const remembered = known.get(name)
      if (remembered) return remembered
      const before = deletions
      const room = await rooms.findByName(name)
      if (room && before === deletions) known.set(name, room)
      return room
    },

    /** The room was deleted (rooms are deleted by case-insensitive name). */
    forget(deleted: string) {
      deletions++
      const lower = deleted.toLowerCase()
      for (const name of known.keys()) if (name.toLowerCase() === lower) known.delete(name)
    },
  }
}

export type RoomDirectory = ReturnType<typeof createRoomDirectory>
