import { type Kysely, sql } from 'kysely'
import type { AuthDatabase, NewUser, User } from '../db/schema.js'

export type UsersRepository = ReturnType<typeof createUsersRepository>

const UNIQUE_VIOLATION = '23505'

export class DuplicateUserError extends Error {
  override name = 'DuplicateUserError'
  constructor(readonly field: 'username' | 'email') {
    super(`duplicate ${field}`)
  }
}

export function createUsersRepository(db: Kysely<AuthDatabase>) {
  return {
    findByUsername(username: string, trx: Kysely<AuthDatabase> = db) {
      return trx
        .selectFrom('users')
        .selectAll()
        .where(sql`lower(username)`, '=', username.toLowerCase())
        .executeTakeFirst()
    },

    findById(id: number, trx: Kysely<AuthDatabase> = db) {
      return trx.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()
    },

    async taken(username: string, email: string, trx: Kysely<AuthDatabase> = db) {
      const rows = await trx
        .selectFrom('users')
        .select([
          sql<boolean>`lower(username) = ${username.toLowerCase()}`.as('same_username'),
          sql<boolean>`email <> '' and lower(email) = ${email.toLowerCase()}`.as('same_email'),
        ])
        .where((eb) =>
          eb.or([
            eb(sql`lower(username)`, '=', username.toLowerCase()),
            eb.and([eb('email', '<>', ''), eb(sql`lower(email)`, '=', email.toLowerCase())]),
          ]),
        )
        .execute()
      return {
        username: rows.some((row) => row.same_username),
        email: email !== '' && rows.some((row) => row.same_email),
      }
    },

    /** Inserts; a concurrent duplicate surfaces as DuplicateUserError, like the check before it. */
    async insert(user: NewUser, trx: Kysely<AuthDatabase> = db): Promise<User> {
      try {
        return await trx.insertInto('users').values(user).returningAll().executeTakeFirstOrThrow()
      } catch (error) {
        const { code, constraint } = error as { code?: string; constraint?: string }
        if (code === UNIQUE_VIOLATION) {
          throw new DuplicateUserError(constraint?.includes('email') ? 'email' : 'username')
        }
        throw error
      }
    },

    list(trx: Kysely<AuthDatabase> = db) {
      return trx.selectFrom('users').selectAll().orderBy('username').execute()
    },

    /**
     * The administrators, locked until the transaction ends: a concurrent demotion waits, then
     * sees the rows as this one left them.
     */
    lockAdmins(trx: Kysely<AuthDatabase>) {
      return trx
        .selectFrom('users')
        .select(['id', 'username'])
        .where('is_admin', '=', true)
        .forUpdate()
        .execute()
    },

    setAdmin(username: string, isAdmin: boolean, trx: Kysely<AuthDatabase> = db) {
      return trx
        .updateTable('users')
        .set({ is_admin: isAdmin })
        .where(sql`lower(username)`, '=', username.toLowerCase())
        .returningAll()
        .executeTakeFirst()
    },

    setBot(username: string, isBot: boolean, trx: Kysely<AuthDatabase> = db) {
      return trx
        .updateTable('users')
        .set({ is_bot: isBot })
        .where(sql`lower(username)`, '=', username.toLowerCase())
        .returningAll()
        .executeTakeFirst()
    },

    setPassword(id: number, passwordHash: string, trx: Kysely<AuthDatabase> = db): Promise<User> {
      return trx
        .updateTable('users')
        .set({ password_hash: passwordHash })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow()
    },
  }
}
