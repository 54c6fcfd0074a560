import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestDatabase } from '@finchat/db/testing'
import t from 'tap'

const main = join(import.meta.dirname, '../src/main.ts')

t.test('an operator manages users and rooms from the command line', async (t) => {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.drop())
  const dataDir = await mkdtemp(join(tmpdir(), 'finchat-cli-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const prefix = `test:${randomBytes(4).toString('hex')}:`
  const env = {
    ...process.env,
    REDIS_PREFIX: prefix,
    DATABASE_URL: testDb.config.url ?? '',
    DATA_DIR: dataDir,
    PASSWORD_HASH_COST: '10',
  }
  const admin = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--conditions=@finchat/source', '--import=tsx', main, ...args],
        { env },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
      )
    })

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
