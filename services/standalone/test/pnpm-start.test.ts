import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ServerFrame } from '@finchat/protocol'
import { ChatClient, createApiClient } from '@finchat/protocol/client'
import { startFakeStooq } from '@finchat/testing'
import t from 'tap'

// `pnpm start` as a user runs it on a fresh machine: no database server, no Redis, one port.
// Everything works at once, stock bot included, and a restart keeps what was there.

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const PASSWORD = 'correct-horse-battery'

interface Running {
  child: ChildProcess
  url: string
  output: () => string
}

/** Runs `pnpm start` in its own process group; resolves once the banner names the URL. */
async function pnpmStart(env: NodeJS.ProcessEnv): Promise<Running> {
  const childEnv = { ...process.env, ...env }
  // Embedded defaults, whatever the test run itself uses; and none of the runner's loaders.
  delete childEnv.DATABASE_URL
  delete childEnv.REDIS_URL
  delete childEnv.NODE_OPTIONS
  const child = spawn('pnpm', ['start'], {
    cwd: REPO_ROOT,
    env: childEnv,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const url = new Promise<string>((resolve, reject) => {
    const take = (chunk: Buffer) => {
      output += chunk
      const match = /running at (http:\/\/\S+)/.exec(output)
      if (match) resolve(match[1] as string)
    }
    child.stdout?.on('data', take)
    child.stderr?.on('data', take)
    child.once('exit', () =>
      reject(new Error(`pnpm start exited before it was running:\n${output}`)),
    )
  })
  return { child, url: await url, output: () => output }
}

/** SIGTERM to the whole group (pnpm and node), as Ctrl-C does. */
async function stop(running: Running): Promise<void> {
  const exited = once(running.child, 'exit')
  process.kill(-(running.child.pid as number), 'SIGTERM')
  await exited
}

const dataDir = await mkdtemp(join(tmpdir(), 'finchat-start-'))
// pnpm may exit before the node process under it has closed PGlite's files: retry a while.
t.teardown(() => rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 }))
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

/** `pnpm admin …` on the same DATA_DIR, as a user runs it from another terminal. */
async function pnpmAdmin(...args: string[]): Promise<{ code: number; output: string }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir }
  delete childEnv.DATABASE_URL
  delete childEnv.REDIS_URL
  delete childEnv.NODE_OPTIONS
  const child = spawn('pnpm', ['--silent', 'admin', ...args], {
    cwd: REPO_ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk))
  child.stderr.on('data', (chunk) => (output += chunk))
  const [code] = await once(child, 'exit')
  return { code: code as number, output }
}

/** The database server's process (the one holding DATA_DIR) and the standalone above it. */
async function processesOf(): Promise<{ server: number; standalone: number }> {
  const lock = JSON.parse(await readFile(join(dataDir, 'pglite.lock'), 'utf8')) as { pid: number }
  const ps = spawn('ps', ['-o', 'ppid=', '-p', String(lock.pid)], {
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  let out = ''
  ps.stdout.on('data', (chunk) => (out += chunk))
  await once(ps, 'exit')
  return { server: lock.pid, standalone: Number(out.trim()) }
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Until the process is gone: a server orphaned by its standalone's death must not stay. */
async function gone(pid: number) {
  for (let waited = 0; isAlive(pid); waited += 100) {
    if (waited > 30_000) throw new Error(`process ${pid} is still running`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

t.test(
  'a second start on the same DATA_DIR stops at once, naming it; the first carries on',
  async (t) => {
    const first = await pnpmStart(env)
    t.teardown(() => stop(first))
    const second = await pnpmStart(env).then(
      () => 'it started',
      (error: Error) => error.message,
    )
    t.match(second, /The database in \S+ is in use by process \d+ \(another `pnpm start`\?\)/)
    t.ok(second.includes(join(dataDir, 'pglite')), 'the message names the directory')
    const api = createApiClient(first.url)
    t.ok(await api.login({ username: 'alice', password: PASSWORD }), 'the first one still answers')
  },
)

t.test('pnpm admin works while pnpm start runs, and the server sees what it did', async (t) => {
  const running = await pnpmStart(env)
  t.teardown(() => stop(running))
  const users = await pnpmAdmin('users', 'list')
  t.equal(users.code, 0, users.output)
  t.match(users.output, /alice/)
  const added = await pnpmAdmin('rooms', 'add', 'stocks')
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

t.test('a killed start leaves nothing that keeps the next from starting', async (t) => {
  const crashed = await pnpmStart(env)
  const { server, standalone } = await processesOf()
  // The standalone alone dies (a crash): its database server goes with it, lock and all.
  const exited = once(crashed.child, 'exit')
  process.kill(standalone, 'SIGKILL')
  await gone(server)
  await exited
  // Its database server dies alone: the standalone stops too, saying why, not serving errors.
  const orphaned = await pnpmStart(env)
  const orphanedExit = once(orphaned.child, 'exit')
  process.kill((await processesOf()).server, 'SIGKILL')
  await orphanedExit
  t.match(orphaned.output(), /the embedded database stopped/)
  // Both die at once (SIGKILL to the group): the lock stays behind, naming a dead process.
  const killed = await pnpmStart(env)
  const killedExit = once(killed.child, 'exit')
  const killedServer = (await processesOf()).server
  process.kill(-(killed.child.pid as number), 'SIGKILL')
  await killedExit
  await gone(killedServer)
  t.ok(await readFile(join(dataDir, 'pglite.lock'), 'utf8'), 'a stale lock file is left')

  const running = await pnpmStart(env)
  t.teardown(() => stop(running))
  const api = createApiClient(running.url)
  t.ok(await api.login({ username: 'alice', password: PASSWORD }), 'and the data is all there')
})
