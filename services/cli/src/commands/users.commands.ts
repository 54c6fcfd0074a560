import { type Accounts, LastAdminError } from '@finchat/auth'
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

/** Registers an administrator, by the same rules as any registration. */
export async function createSuperuser(accounts: Accounts, input: SuperuserInput) {
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
  const result = await accounts.register({ username, email, password, isAdmin: true })
  if (!result.ok) {
    const lines = Object.entries(result.errors).flatMap(([field, messages]) =>
      messages.map((message) => `${field}: ${message}`),
    )
    throw new CommandError(lines.join('\n'))
  }
  return `Superuser ${result.user.username} created.`
}

export async function listUsers(accounts: Accounts) {
  const users = await accounts.list()
  if (users.length === 0) return 'no users'
  return users
    .map(
      (u) =>
        `${u.username}\t${u.email || '-'}\t${u.is_admin ? 'admin' : 'user'}${u.is_bot ? '\tbot' : ''}`,
    )
    .join('\n')
}

export async function setAdmin(accounts: Accounts, username: string, isAdmin: boolean) {
  const user = await accounts.setAdmin(username, isAdmin).catch((error: unknown) => {
    // The same refusal as the REST route's 409: the operator can create-superuser first.
    if (error instanceof LastAdminError) throw new CommandError(error.message)
    throw error
  })
  if (!user) throw new CommandError(`no user named ${username}`)
  const now = isAdmin ? 'is now an administrator' : 'is no longer an administrator'
  return `${user.username} ${now} (effective from their next login).`
}

/** Marks a bot account (its messages may carry a card) or unmarks it; its sessions end. */
export async function setBot(accounts: Accounts, username: string, isBot: boolean) {
  const user = await accounts.setBot(username, isBot)
  if (!user) throw new CommandError(`no user named ${username}`)
  const now = isBot ? 'is now a bot account' : 'is no longer a bot account'
  return `${user.username} ${now} (effective from its next login; its sessions are ended).`
}

/**
 * The stock bot's account, from the variables the bot itself reads: created, or given
 * FINBOT_PASSWORD when it has another, so that running it again after a change is the fix.
 */
export async function createBot(
  accounts: Accounts,
  bot: { FINBOT_USERNAME?: string; FINBOT_PASSWORD?: string },
) {
  const missing = (['FINBOT_USERNAME', 'FINBOT_PASSWORD'] as const).filter((name) => !bot[name])
  if (missing.length > 0) {
    throw new CommandError(
      `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} required: the bot's account is the one the bot logs in with`,
    )
  }
  const { username } = await accounts.ensureUser(
    bot.FINBOT_USERNAME as string,
    bot.FINBOT_PASSWORD as string,
  )
  // Marked, so that its answers may carry cards: a running bot's sessions end only the first time.
  const user = (await accounts.setBot(username, true)) ?? { username }
  return `The bot's account ${user.username} is ready: it logs in with FINBOT_PASSWORD.`
}
