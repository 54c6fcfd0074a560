import type { FieldErrors } from '@finchat/kit'
import type { AuthDb, User } from '../db/schema.js'
import { announceRevoked } from '../sessions/session-revocations.js'
import { createSessionsRepository } from '../sessions/sessions.repository.js'
import type { PasswordHasher } from '../users/password-hasher.js'
import { MESSAGES, validateRegistration } from '../users/registration-rules.js'
import { createUsersRepository, DuplicateUserError } from '../users/users.repository.js'

/** Accounts need no tokens: a CLI with only a database can use them. */
export interface AccountsDeps {
  db: AuthDb
  passwords: PasswordHasher
  /**
   * Carries out the revocations a demotion committed (auth's relay flush). Absent (a CLI): the
   * running auth's relay delivers them within a second.
   */
  announce?: () => Promise<unknown>
  clock?: () => Date
}

export type RegisterResult = { ok: true; user: User } | { ok: false; errors: FieldErrors }

export type Accounts = ReturnType<typeof createAccounts>

/** A demotion refused because nobody would be left to administer the deployment. */
export class LastAdminError extends Error {
  override name = 'LastAdminError'
  constructor(readonly username: string) {
    super(`${username} is the last administrator: make another user an administrator first.`)
  }
}

const takenMessage = (field: 'username' | 'email') =>
  field === 'email' ? MESSAGES.emailTaken : MESSAGES.usernameTaken

/**
 * The use cases that write the users table: the REST routes, the CLI and the standalone's first
 * start all come through here.
 */
export function createAccounts({
  db,
  passwords,
  announce,
  clock = () => new Date(),
}: AccountsDeps) {
  const users = createUsersRepository(db)
  const sessions = createSessionsRepository(db)
  return {
    /** Field rules, then uniqueness in any letter case, then the insert. */
    async register(input: {
      username: string
      email?: string
      password: string
      isAdmin?: boolean
    }): Promise<RegisterResult> {
      const registration = {
        username: input.username,
        email: input.email ?? '',
        password: input.password,
      }
      const errors = validateRegistration(registration)
      if (!errors.username || !errors.email) {
        const taken = await users.taken(registration.username, registration.email)
        if (taken.username && !errors.username) errors.username = [takenMessage('username')]
        if (taken.email && !errors.email) errors.email = [takenMessage('email')]
      }
      if (Object.keys(errors).length > 0) return { ok: false, errors }

      try {
        const user = await users.insert({
          username: registration.username,
          email: registration.email,
          password_hash: await passwords.hash(registration.password),
          is_admin: input.isAdmin ?? false,
        })
        return { ok: true, user }
      } catch (error) {
        // A concurrent registration won the race: the same answer as the check above.
        if (!(error instanceof DuplicateUserError)) throw error
        return { ok: false, errors: { [error.field]: [takenMessage(error.field)] } }
      }
    },

    /**
     * An operator's own account (the standalone's bot): created with `password`, or given it
     * when it has another. The password is the operator's choice, so no strength rules apply.
     */
    async ensureUser(username: string, password: string): Promise<User> {
      const existing = await users.findByUsername(username)
      if (!existing) {
        return users.insert({ username, email: '', password_hash: await passwords.hash(password) })
      }
      if (await passwords.verify(password, existing.password_hash)) return existing
      return users.setPassword(existing.id, await passwords.hash(password))
    },

    /**
     * Grants admin rights (carried by tokens from the next login) or revokes them (ending the
     * user's sessions at once, so no token keeps them); undefined: no such user. Demoting the last administrator throws LastAdminError: the admin routes and page
     * would have nobody left to use them, and only a shell on the server could undo it.
     */
    async setAdmin(username: string, isAdmin: boolean): Promise<User | undefined> {
      if (isAdmin) return users.setAdmin(username, true)
      const demoted = await db.transaction().execute(async (trx) => {
        // Locked, so two administrators demoting each other at once cannot both pass the count.
        const admins = await users.lockAdmins(trx)
        const target = admins.find((a) => a.username.toLowerCase() === username.toLowerCase())
        if (target && admins.length === 1) throw new LastAdminError(target.username)
        const user = await users.setAdmin(username, false, trx)
        if (user && target) {
          // Their tokens say admin: every session ends, so none keeps admin rights (the next
          // login gets a token without them).
          const now = clock()
          await announceRevoked(trx, user, await sessions.revokeAllOf(user.id, now, trx), now)
        }
        return user
      })
      if (demoted) await announce?.()
      return demoted
    },

    /**
     * Marks a bot account (its messages may carry a card) or unmarks it; undefined: no such
     * user. Tokens say whether their bearer is a bot, so a change ends the user's sessions: the
     * next login's token says the new thing, and no old one goes on saying the old.
     */
    async setBot(username: string, isBot: boolean): Promise<User | undefined> {
      const changed = await db.transaction().execute(async (trx) => {
        const before = await users.findByUsername(username, trx)
        if (!before) return { user: undefined, revoked: false }
        if (before.is_bot === isBot) return { user: before, revoked: false }
        const user = await users.setBot(username, isBot, trx)
        if (!user) return { user: undefined, revoked: false }
        const now = clock()
        await announceRevoked(trx, user, await sessions.revokeAllOf(user.id, now, trx), now)
        return { user, revoked: true }
      })
      if (changed.revoked) await announce?.()
      return changed.user
    },

    list(): Promise<User[]> {
      return users.list()
    },
  }
}
