import type { AuthDb } from '@finchat/auth'
import {
  createScryptHasher,
  createUsersRepository,
  DuplicateUserError,
  validateRegistration,
} from '@finchat/auth'
import { ask } from '../prompt.js'

export class CommandError extends Error {
  override name = 'CommandError'
}

export interface SuperuserInput {
  username?: string
  email?: string
  password?: string
  interactive: boolean
}

/** Creates an administrator, or makes an existing user one when asked with the same name. */
export async function createSuperuser(db: AuthDb, input: SuperuserInput, hashCost: number) {
  const username = input.username ?? (input.interactive ? await ask('Username: ') : '')
  const email = input.email ?? (input.interactive ? await ask('Email address: ') : '')
  let password = input.password
  if (password === undefined && input.interactive) {
    password = await ask('Password: ', true)
    if ((await ask('Password (again): ', true)) !== password) {
      throw new CommandError("Error: Your passwords didn't match.")
    }
  }
  if (!username || !password) {
    throw new CommandError(
      'username and password are required (--username, --password, or answer the prompts)',
    )
  }
  const errors = validateRegistration({ username, email, password })
  const messages = Object.entries(errors).flatMap(([field, list]) =>
    list.map((m) => `${field}: ${m}`),
  )
  if (messages.length) throw new CommandError(messages.join('\n'))
  const users = createUsersRepository(db)
  try {
    const user = await users.insert({
      username,
      email,
      password_hash: await createScryptHasher(hashCost).hash(password),
      is_admin: true,
    })
    return `Superuser ${user.username} created.`
  } catch (error) {
    if (error instanceof DuplicateUserError) {
      throw new CommandError(`A user with that ${error.field} already exists.`)
    }
    throw error
  }
}

export async function listUsers(db: AuthDb) {
  const users = await createUsersRepository(db).list()
  if (users.length === 0) return 'no users'
  return users
    .map((u) => `${u.username}\t${u.email || '-'}\t${u.is_admin ? 'admin' : 'user'}`)
    .join('\n')
}

export async function grantAdmin(db: AuthDb, username: string) {
  const user = await createUsersRepository(db).setAdmin(username, true)
  if (!user) throw new CommandError(`no user named ${username}`)
  return `${user.username} is now an administrator (effective from their next login).`
}
