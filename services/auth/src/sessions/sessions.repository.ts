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

    /** Revokes every open session of the user; the ones it revoked. */
    async revokeAllOf(userId: number, now: Date, trx: Kysely<AuthDatabase> = db) {
      return trx
        .updateTable('sessions')
        .set({ revoked_at: now })
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .returning(['id', 'expires_at'])
        .execute()
    },

    /** Sessions revoked whose tokens have not expired yet: what the shared list must hold. */
    async revokedInForce(now: Date, trx: Kysely<AuthDatabase> = db) {
      return trx
        .selectFrom('sessions')
        .select(['id', 'expires_at'])
        .where('revoked_at', 'is not', null)
        .where('expires_at', '>', now)
        .execute()
    },
  }
}
