import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createBus } from '@finchat/bus'
import { createTestDatabase } from '@finchat/db/testing'
import { type ChatEvent, STREAMS } from '@finchat/protocol'
import t from 'tap'

const main = join(import.meta.dirname, '../src/main.ts')

t.test('an operator manages users and rooms from the command line', async (t) => {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.drop())
  const dataDir = await mkdtemp(join(tmpdir(), 'finchat-cli-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const prefix = `test:${randomBytes(4).toString('hex')}:`
  const bus = process.env.REDIS_URL
    ? createBus({ redisUrl: process.env.REDIS_URL, prefix })
    : undefined
  t.teardown(() => bus?.close())
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

  const added = await admin('rooms', 'add', 'friends', 'family', 'investments')
  t.equal(added.code, 0, added.stderr)
  t.match(added.stdout, /room investments created/)
  t.match((await admin('rooms', 'add', 'Friends')).stdout, /room Friends already exists/)
  const bad = await admin('rooms', 'add', 'ok-room', '1bad', 'a--b')
  t.equal(bad.code, 1)
  t.match(bad.stderr, /1bad: A room name starts with a letter/)
  t.match(bad.stderr, /a--b/)
  t.equal(
    (await admin('rooms', 'list')).stdout,
    'family\nfriends\ninvestments\n',
    'nothing of a bad batch',
  )

  let announced: (event: ChatEvent | undefined) => void = () => {}
  const deletion = new Promise<ChatEvent | undefined>((resolve) => {
    announced = resolve
  })
  const subscription = bus?.subscribe<ChatEvent>(STREAMS.chatEvents, (entries) => {
    announced(entries[0]?.data)
  })
  await subscription?.ready
  const removed = await admin('rooms', 'delete', 'family')
  t.equal(removed.code, 0, removed.stderr)
  t.equal((await admin('rooms', 'list')).stdout, 'friends\ninvestments\n')
  t.equal((await admin('rooms', 'delete', 'family')).code, 1, 'no such room any more')
  if (bus) {
    t.match(await deletion, { type: 'room.deleted', room: 'family' }, 'running instances are told')
  }
})
