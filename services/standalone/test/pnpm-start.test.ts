import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ServerFrame } from '@finchat/protocol'
import { ChatClient, createApiClient } from '@finchat/protocol/client'
import { startFakeStooq } from '@finchat/testing'
import t from 'tap'
import { freshDataDir, PASSWORD, pnpmAdmin, pnpmStart, stop } from './helpers/pnpm-start.js'

// `pnpm start` as a user runs it on a fresh machine: no database server, no Redis, one port.
// Everything works at once, stock bot included, a restart keeps what was there, and `pnpm admin`
// works beside it; a Ctrl-C in its first second loses nothing. (What guards DATA_DIR is in
// pnpm-start-data-dir.test.ts.)

const dataDir = await freshDataDir(t)
const stooq = await startFakeStooq(t)
stooq.quote('aapl.us', '93.42')
const env = { DATA_DIR: dataDir, PORT: '0', FINBOT_QUOTE_URL: stooq.url }

/** Logged out before the restart: it must stay refused after it. */
let revokedToken = ''

t.test('a fresh start: rooms, REST, websocket and the stock bot on one port', async (t) => {
  const running = await pnpmStart(env)
  t.teardown(() => stop(running))
  t.match(running.output(), /Rooms: +created friends, family, investments/)
  t.match(running.output(), /pnpm admin create-superuser/, 'it says how to make an admin')

  const api = createApiClient(running.url)
  await api.register({ username: 'alice', password: PASSWORD })
  const token = await api.login({ username: 'alice', password: PASSWORD })
  const alice = await ChatClient.connect(`${running.url.replace('http', 'ws')}/ws/chat`, { token })
  t.teardown(() => alice.close())
  t.match(await alice.next(), { type: 'notification', code: 'api-motd' })
  alice.send({ type: 'list' })
  t.match(await alice.next(), {
    code: 'list',
    list: [{ name: 'family' }, { name: 'friends' }, { name: 'investments' }],
  })
  const joined = await alice.join('investments')
  if (!joined.status?.users.some((u) => u.name === 'finbot')) {
    await alice.next(
      (f: ServerFrame) =>
        f.type === 'room:notification' && f.code === 'joined' && f.user === 'finbot',
    )
  }
  await alice.say('investments', 'remember me')
  alice.send({ type: 'message', room_name: 'investments', command: 'stock', payload: 'aapl.us' })
  t.match(
    await alice.next(
      (f) => f.type === 'room:notification' && f.code === 'message' && f.user === 'finbot',
    ),
    // The standalone marks its own bot's account, so the answer carries the quote's card.
    { body: 'AAPL.US quote is $93.42 per share', card: { kind: 'quote', symbol: 'AAPL.US' } },
  )
  t.match(await (await fetch(`${running.url}/docs/json`)).json(), { paths: { '/login': {} } })
  revokedToken = await api.login({ username: 'alice', password: PASSWORD })
  await api.logout(revokedToken)
  for (const secret of ['keys/jwt-ed25519.key', 'finbot-password']) {
    t.ok((await readFile(join(dataDir, secret), 'utf8')).length > 20, `${secret} was generated`)
  }
})

t.test('a restart keeps users, rooms and history, and seeds nothing again', async (t) => {
  const running = await pnpmStart(env)
  t.teardown(() => stop(running))
  t.notMatch(running.output(), /Rooms: +created/)
  const api = createApiClient(running.url)
  const token = await api.login({ username: 'alice', password: PASSWORD })
  const alice = await ChatClient.connect(`${running.url.replace('http', 'ws')}/ws/chat`, { token })
  t.teardown(() => alice.close())
  await alice.next()
  const joined = await alice.join('investments')
  t.ok(
    joined.status?.messages.some((m) => m.body === 'remember me'),
    'the history is there',
  )
  // The list of revoked sessions lives in the process's memory: loaded again at start.
  const revoked = await ChatClient.connect(`${running.url.replace('http', 'ws')}/ws/chat`, {
    token: revokedToken,
  })
  t.match(await revoked.next(), { type: 'fatal', code: 'not-authenticated' }, 'a logout survives')
})

t.test('pnpm admin works while pnpm start runs, and the server sees what it did', async (t) => {
  const running = await pnpmStart(env)
  t.teardown(() => stop(running))
  const users = await pnpmAdmin(dataDir, 'users', 'list')
  t.equal(users.code, 0, users.output)
  t.match(users.output, /alice/)
  const added = await pnpmAdmin(dataDir, 'rooms', 'add', 'stocks')
  t.equal(added.code, 0, added.output)

  const api = createApiClient(running.url)
  const token = await api.login({ username: 'alice', password: PASSWORD })
  const alice = await ChatClient.connect(`${running.url.replace('http', 'ws')}/ws/chat`, { token })
  t.teardown(() => alice.close())
  await alice.next()
  alice.send({ type: 'list' })
  t.match(await alice.next(), { code: 'list', list: [{}, {}, {}, { name: 'stocks' }] })
  t.ok(await alice.join('stocks'), 'the new room can be joined')
})

t.test(
  'a Ctrl-C the moment a first start listens stops it cleanly, and the next has it all',
  async (t) => {
    const firstDir = await freshDataDir(t)
    const firstEnv = { DATA_DIR: firstDir, PORT: '0' }
    // The server's own "listening" line comes before the bot's account and connection are made.
    const early = await pnpmStart({ ...firstEnv, LOG_LEVEL: 'info' }, /Server listening at/)
    const exited = once(early.child, 'exit')
    process.kill(-(early.child.pid as number), 'SIGINT')
    await exited
    t.notMatch(early.output(), /"level":(50|60)/, 'nothing logged as an error')
    t.notMatch(early.output(), /running at/, 'no banner for a server that is stopping')

    const next = await pnpmStart(firstEnv)
    t.teardown(() => stop(next))
    t.notMatch(next.output(), /Rooms: +created/, 'the first start had seeded its rooms')
    const api = createApiClient(next.url)
    await api.register({ username: 'carol', password: PASSWORD })
    const token = await api.login({ username: 'carol', password: PASSWORD })
    const carol = await ChatClient.connect(`${next.url.replace('http', 'ws')}/ws/chat`, { token })
    t.teardown(() => carol.close())
    await carol.next()
    carol.send({ type: 'list' })
    t.match(await carol.next(), {
      code: 'list',
      list: [{ name: 'family' }, { name: 'friends' }, { name: 'investments' }],
    })
    t.match(next.output(), /Stock bot: +"finbot"/, 'the bot starts with its account')
  },
)
