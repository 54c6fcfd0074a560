import { authDb, createScryptHasher, createUsersRepository } from '@finchat/auth'
import { createDatabase } from '@finchat/db'
import t from 'tap'
import { cliOnOwnDatabase } from '../cli-process.js'

t.test('admin rights are taken back, but the last administrator stays one', async (t) => {
  const { admin } = await cliOnOwnDatabase(t)
  const superuser = (username: string) =>
    admin('create-superuser', '--no-input', '--username', username, '--password', 'a-strong-secret')
  t.equal((await superuser('root')).code, 0)

  const last = await admin('users', 'revoke-admin', 'ROOT')
  t.equal(last.code, 1)
  t.equal(
    last.stderr,
    'root is the last administrator: make another user an administrator first.\n',
    'the same words as the REST route',
  )

  t.equal((await superuser('ops')).code, 0)
  const revoked = await admin('users', 'revoke-admin', 'ROOT')
  t.equal(revoked.code, 0, revoked.stderr)
  t.match(revoked.stdout, /root is no longer an administrator/)
  const list = (await admin('users', 'list')).stdout
  t.match(list, /^root\t-\tuser$/m)
  t.match(list, /^ops\t-\tadmin$/m)
  t.equal((await admin('users', 'revoke-admin', 'ops')).code, 1, 'now ops is the last one')
})

t.test("the bot's account comes from the bot's own variables", async (t) => {
  const { adminWith, database } = await cliOnOwnDatabase(t)
  // What auth checks at login: the stored hash. The database is opened for each look, as PGlite
  // (without DATABASE_URL) lets one process at a time in.
  const users = async () => {
    const stored = await createDatabase(database)
    try {
      return await createUsersRepository(authDb(stored.db)).list()
    } finally {
      await stored.close()
    }
  }
  const logsIn = async (username: string, password: string) => {
    const user = (await users()).find((u) => u.username === username)
    return user !== undefined && createScryptHasher(10).verify(password, user.password_hash)
  }

  const unset = await adminWith({ FINBOT_USERNAME: '', FINBOT_PASSWORD: '' }, 'users', 'create-bot')
  t.equal(unset.code, 1)
  t.match(unset.stderr, /^FINBOT_USERNAME and FINBOT_PASSWORD are required/)
  const placeholder = await adminWith(
    { FINBOT_USERNAME: 'finbot', FINBOT_PASSWORD: 'CHANGE_ME' },
    'users',
    'create-bot',
  )
  t.equal(placeholder.code, 1, 'as the bot would, it refuses the placeholder of .env.sample')
  t.match(placeholder.stderr, /FINBOT_PASSWORD still holds the CHANGE_ME placeholder/)

  const bot = { FINBOT_USERNAME: 'finbot', FINBOT_PASSWORD: 'the bot password' }
  const created = await adminWith(bot, 'users', 'create-bot')
  t.equal(created.code, 0, created.stderr)
  t.match(created.stdout, /The bot's account finbot is ready/)
  t.ok(await logsIn('finbot', 'the bot password'), 'the bot can log in')

  // Compose runs it at every start: a second run is no error, and follows a changed .env.
  const changed = await adminWith({ ...bot, FINBOT_PASSWORD: 'changed' }, 'users', 'create-bot')
  t.equal(changed.code, 0, changed.stderr)
  t.ok(await logsIn('finbot', 'changed'), 'with the new password')
  t.notOk(await logsIn('finbot', 'the bot password'), 'and not the old one')
  t.match(await users(), [{ username: 'finbot', is_admin: false, is_bot: true }], 'one bot account')
  t.equal((await users()).length, 1)
})
