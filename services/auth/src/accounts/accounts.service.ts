import type { FieldErrors } from '@finchat/kit'
import type { AuthDb, User } from '../db/schema.js'
import type { PasswordHasher } from '../users/password-hasher.js'
import { MESSAGES, validateRegistration } from '../users/registration-rules.js'
import { createUsersRepository, DuplicateUserError } from '../users/users.repository.js'

/** Accounts need no tokens: a CLI with only a database can use them. */
export interface AccountsDeps {
  db: AuthDb
  passwords: PasswordHasher
}

export type RegisterResult = { ok: true; user: User } | { ok: false; errors: FieldErrors }

export type Accounts = ReturnType<typeof createAccounts>

const takenMessage = (field: 'username' | 'email') =>
  field === 'email' ? MESSAGES.emailTaken : MESSAGES.usernameTaken

/**
 * The use cases that write the users table: the REST routes, the CLI and the standalone's first
 * start all come through here.
 */
export function createAccounts({ db, passwords }: AccountsDeps) {
  const users = createUsersRepository(db)
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

    /** Grants or revokes admin rights (carried by tokens from the next login); undefined: no such user. */
    setAdmin(username: string, isAdmin: boolean): Promise<User | undefined> {
      return users.setAdmin(username, isAdmin)
    },

    list(): Promise<User[]> {
      return users.list()
    },
  }
}
