import t from 'tap'
import { cliOnOwnDatabase } from './cli-process.js'

t.test('an operator manages users and rooms from the command line', async (t) => {
  const { admin } = await cliOnOwnDatabase(t)

  const created = await admin(
    'create-superuser',
    '--no-input',
    '--username',
    'root',
    '--email',
    'root@example.com',
    '--password',
    'a-strong-secret',
  )
  t.equal(created.code, 0, created.stderr)
  t.match(created.stdout, /Superuser root created/)

  const again = await admin(
    'create-superuser',
    '--no-input',
    '--username',
    'ROOT',
    '--password',
    'x',
  )
  t.equal(again.code, 1)
  t.match(again.stderr, /password: This password is too short/)

  const missing = await admin('create-superuser', '--no-input')
  t.equal(missing.code, 1)
  t.match(missing.stderr, /username and password are required/)

  const list = await admin('users', 'list')
  t.match(list.stdout, /^root\troot@example.com\tadmin$/m)

  // Taking rights back, and the bot's account: test/commands/users.commands.test.ts.
  const last = await admin('users', 'revoke-admin', 'ROOT')
  t.equal(last.code, 1, 'the last administrator stays one')
  t.match(last.stderr, /root is the last administrator/)
  t.match((await admin('users', 'grant-admin', 'root')).stdout, /root is now an administrator/)
  t.equal((await admin('users', 'grant-admin', 'nobody')).code, 1)
  t.equal((await admin('bogus')).code, 1)
  // Rooms: test/commands/rooms.commands.test.ts (split off: each command is a process of its own,
  // a few seconds each on a busy machine).
})
