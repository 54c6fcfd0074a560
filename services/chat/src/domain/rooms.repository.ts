import { compareCodePoints } from '@finchat/protocol'
import { type Kysely, sql } from 'kysely'
import type { ChatDatabase, RoomRow } from '../db/schema.js'

export type RoomsRepository = ReturnType<typeof createRoomsRepository>

export class DuplicateRoomError extends Error {
  override name = 'DuplicateRoomError'
}

const UNIQUE_VIOLATION = '23505'

const byName = (a: RoomRow, b: RoomRow) => compareCodePoints(a.name, b.name)

export function createRoomsRepository(db: Kysely<ChatDatabase>) {
  return {
    /** Rooms are looked up by their exact name, as the original did. */
    findByName(name: string, trx: Kysely<ChatDatabase> = db) {
      return trx.selectFrom('rooms').selectAll().where('name', '=', name).executeTakeFirst()
    },

    async nameOf(id: number, trx: Kysely<ChatDatabase> = db): Promise<string | undefined> {
      const row = await trx
        .selectFrom('rooms')
        .select('name')
        .where('id', '=', id)
        .executeTakeFirst()
      return row?.name
    },

    async list(trx: Kysely<ChatDatabase> = db) {
      return (await trx.selectFrom('rooms').selectAll().execute()).sort(byName)
    },

    async create(name: string, trx: Kysely<ChatDatabase> = db) {
      try {
        return await trx
          .insertInto('rooms')
          .values({ name })
          .returningAll()
          .executeTakeFirstOrThrow()
      } catch (error) {
        if ((error as { code?: string }).code === UNIQUE_VIOLATION)
          throw new DuplicateRoomError(name)
        throw error
      }
    },

    /** Deletes the room and its history; the deleted row, or undefined when there was none. */
    delete(name: string, trx: Kysely<ChatDatabase> = db) {
      return trx
        .deleteFrom('rooms')
        .where(sql`lower(name)`, '=', name.toLowerCase())
        .returningAll()
        .executeTakeFirst()
    },
  }
}
