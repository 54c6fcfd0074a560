import type { Kysely } from 'kysely'
import type { AuthDatabase, NewSession } from '../db/schema.js'

export type SessionsRepository = ReturnType<typeof createSessionsRepository>

export function createSessionsRepository(db: Kysely<AuthDatabase>) {
  return {
    async insert(session: NewSession, trx: Kysely<AuthDatabase> = db) {
      await trx.insertInto('sessions').values(session).execute()
    },

    async isActive(id: string, now: Date, trx: Kysely<AuthDatabase> = db) {
      const row = await trx
        .selectFrom('sessions')
        .select('id')
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .executeTakeFirst()
      return row !== undefined
    },

    /** Marks the session revoked; false when it was unknown or already revoked. */
    async revoke(id: string, now: Date, trx: Kysely<AuthDatabase> = db) {
      const result = await trx
        .updateTable('sessions')
        .set({ revoked_at: now })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst()
      return result.numUpdatedRows > 0n
    },
  }
}
