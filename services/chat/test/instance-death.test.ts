import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { MessageNotification, PartedNotification, ServerFrame } from '@finchat/protocol'
import { ChatClient } from '@finchat/protocol/client'
import { type Stack, startStack } from '@finchat/testing'
import t, { type Test } from 'tap'

// A real chat process next to an in-process instance, on one PostgreSQL database and one Redis:
// what clients and presence see when the process dies without a goodbye (SIGKILL) and when it
// is stopped (SIGTERM).

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const TIMINGS = { heartbeatMs: 200, deadAfterMs: 1000 }
const PARTED_WITHIN_MS = 10_000

const isMotd = (f: ServerFrame) => f.type === 'notification' && f.code === 'api-motd'
const partedBy =
  (user: string, room = 'friends') =>
  (f: ServerFrame): f is PartedNotification =>
    f.type === 'room:notification' && f.code === 'parted' && f.user === user && f.room_name === room
const joinedBy =
  (user: string, room = 'friends') =>
  (f: ServerFrame) =>
    f.type === 'room:notification' && f.code === 'joined' && f.user === user && f.room_name === room
const isOwnEcho = (f: ServerFrame): f is MessageNotification =>
  f.type === 'room:notification' && f.code === 'message' && f.you

interface ChildChat {
  url: string
  process: ChildProcess
  /** The latest log lines, for failure messages. */
  logs: string[]
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Starts `services/chat/src/main.ts` as its own process on the stack's database and Redis. */
async function startChildChat(t: Test, stack: Stack): Promise<ChildChat> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: stack.databaseUrl,
    REDIS_URL: process.env.REDIS_URL,
    REDIS_PREFIX: stack.prefix,
    JWT_PUBLIC_KEY: stack.keys.publicKey,
    PORT: '0',
    HOST: '127.0.0.1',
    INSTANCE_ID: `child-${randomBytes(4).toString('hex')}`,
    PRESENCE_HEARTBEAT_MS: String(TIMINGS.heartbeatMs),
    PRESENCE_DEAD_AFTER_MS: String(TIMINGS.deadAfterMs),
    LOG_LEVEL: 'info',
    NODE_ENV: 'production',
  }
  // The test runner's loaders are not the service's business.
  delete env.NODE_OPTIONS
  const child = spawn(
    process.execPath,
    ['--conditions=@finchat/source', '--import=tsx', 'services/chat/src/main.ts'],
    { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
  })

  const logs: string[] = []
  const remember = (line: string) => {
    logs.push(line)
    if (logs.length > 50) logs.shift()
  }
  if (child.stderr) createInterface({ input: child.stderr }).on('line', remember)
  const listening = new Promise<string>((resolve, reject) => {
    if (!child.stdout) return reject(new Error('no stdout'))
    createInterface({ input: child.stdout }).on('line', (line) => {
      remember(line)
      try {
        const entry = JSON.parse(line) as { msg?: unknown }
        if (typeof entry.msg === 'string' && entry.msg.startsWith('Server listening at')) {
          resolve(entry.msg.slice('Server listening at'.length).trim())
        }
      } catch {
        // not a log line
      }
    })
    void exited.then(({ code, signal }) =>
      reject(new Error(`chat process exited (${code ?? signal}): ${logs.join('\n')}`)),
    )
  })
  let timer: NodeJS.Timeout | undefined
  const address = await Promise.race([
    listening,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`chat process not listening after 30 s: ${logs.join('\n')}`)),
        30_000,
      )
    }),
  ]).finally(() => clearTimeout(timer))
  return { url: `${address.replace('http', 'ws')}/ws/chat`, process: child, logs, exited }
}

/** Connects to the child process and waits for the MOTD. */
async function connectTo(stack: Stack, url: string, token: string) {
  const client = stack.track(await ChatClient.connect(url, { token }))
  await client.next(isMotd)
  return client
}

const names = (users: { name: string }[] | undefined) => users?.map((u) => u.name)

t.test('instance death', async (t) => {
  if (!process.env.REDIS_URL || !process.env.DATABASE_URL) {
    t.pass('skipped: needs Redis and PostgreSQL (REDIS_URL, DATABASE_URL)')
    return
  }

  t.test('SIGKILL: partings announced, users free to reconnect, nothing lost', async (t) => {
    const stack = await startStack(t, { chatInstances: 1, presenceTimings: TIMINGS })
    await stack.createRooms('friends')
    const child = await startChildChat(t, stack)
    t.teardown(() => {
      if (t.passing()) return
      t.comment(`chat process log:\n${child.logs.join('\n')}`)
    })

    const tokens = { alice: await stack.token('alice'), bob: await stack.token('bob') }
    const doomed = {
      alice: await connectTo(stack, child.url, tokens.alice),
      bob: await connectTo(stack, child.url, tokens.bob),
    }
    const carol = await stack.user('carol', 0)
    const dave = await stack.user('dave', 0)
    await doomed.alice.join('friends')
    await carol.join('friends')
    await doomed.bob.join('friends')
    const daveJoined = await dave.join('friends')
    t.same(
      names(daveJoined.status?.users),
      ['alice', 'bob', 'carol', 'dave'],
      'members of both instances',
    )
    await doomed.alice.next(joinedBy('dave'))

    const echoed = new Set<number>()
    for (const client of [...Object.values(doomed), carol, dave]) {
      client.onFrame((f) => {
        if (isOwnEcho(f)) echoed.add(f.id)
      })
    }
    for (const client of [doomed.alice, carol, doomed.bob, dave]) {
      await client.say('friends', 'before the crash')
    }
    // Messages in flight at the moment of death: some echoed, some perhaps not.
    for (let n = 0; n < 10; n++) {
      doomed.alice.send({ type: 'message', room_name: 'friends', body: `alice in flight ${n}` })
      doomed.bob.send({ type: 'message', room_name: 'friends', body: `bob in flight ${n}` })
    }
    await doomed.alice.next(isOwnEcho)

    // The users reconnect to the survivor as soon as their connection drops, and alice rejoins
    // at once, before the survivor may have noticed the death.
    const reconnects = Object.entries(doomed).map(async ([name, client]) => {
      const closed = await client.closed
      const since = performance.now()
      const again = stack.track(
        await ChatClient.connect(stack.chats[0]?.wsUrl as string, {
          token: tokens[name as keyof typeof tokens],
        }),
      )
      const first = await again.next(undefined, 10_000)
      const connectMs = performance.now() - since
      const joined = name === 'alice' && first.type !== 'fatal' ? await again.join('friends') : null
      return { name, closed, again, first, connectMs, joined }
    })

    const killedAt = performance.now()
    child.process.kill('SIGKILL')
    const partedAfter = await Promise.all(
      ['alice', 'bob'].map(async (name) => {
        await carol.next(partedBy(name), PARTED_WITHIN_MS)
        const elapsed = performance.now() - killedAt
        await dave.next(partedBy(name), PARTED_WITHIN_MS)
        return elapsed
      }),
    )
    const slowest = Math.max(...partedAfter)
    t.ok(slowest < PARTED_WITHIN_MS, `parted announced ${Math.round(slowest)} ms after SIGKILL`)
    t.equal((await child.exited).signal, 'SIGKILL')

    const back = await Promise.all(reconnects)
    for (const { name, closed, first, connectMs } of back) {
      t.not(closed.code, 1000, `${name}'s connection dropped (${closed.code})`)
      t.match(
        first,
        { type: 'notification', code: 'api-motd' },
        `${name} reconnected at once, in ${Math.round(connectMs)} ms, without already-chatting`,
      )
    }
    const alice = back[0]?.again as ChatClient
    const bob = back[1]?.again as ChatClient

    // alice's early rejoin is not undone by the late announcement of her old connection's end.
    t.same(names(back[0]?.joined?.status?.users), ['alice', 'carol', 'dave'])
    // alice's own joined may reach her before carol's copy reaches carol.
    await carol.next(joinedBy('alice'), 5000)
    const aliceAfterKill = carol.frames
      .filter((f) => joinedBy('alice')(f) || partedBy('alice')(f))
      .map((f) => (f.type === 'room:notification' ? f.code : f.type))
    t.same(aliceAfterKill.slice(-2), ['parted', 'joined'], 'carol saw alice part, then rejoin')
    const bobJoined = await bob.join('friends')
    t.same(
      names(bobJoined.status?.users),
      ['alice', 'bob', 'carol', 'dave'],
      'every user once, no ghost',
    )
    t.notOk(alice.frames.some(partedBy('alice')), 'the new connection of alice was not parted')

    const erin = await stack.user('erin', 0)
    const erinJoined = await erin.join('friends')
    t.same(names(erinJoined.status?.users), ['alice', 'bob', 'carol', 'dave', 'erin'])

    // Messages still reach the rejoined users.
    const hello = await carol.say('friends', 'welcome back')
    t.match(await alice.next((f) => f.type === 'room:notification' && f.code === 'message'), {
      id: hello.id,
    })
    t.match(await bob.next((f) => f.type === 'room:notification' && f.code === 'message'), {
      id: hello.id,
    })

    erin.send({ type: 'history', room_name: 'friends' })
    const page = await erin.next((f) => f.type === 'notification' && f.code === 'history')
    const history = new Set(
      page.type === 'notification' && page.code === 'history' ? page.messages.map((m) => m.id) : [],
    )
    t.ok(echoed.size >= 5, `${echoed.size} messages echoed to their senders`)
    t.same(
      [...echoed].filter((id) => !history.has(id)),
      [],
      'every message whose sender saw its echo is in the history',
    )
    t.comment(
      `parted after ${partedAfter.map(Math.round).join(' / ')} ms; reconnected in ${back
        .map((b) => Math.round(b.connectMs))
        .join(' / ')} ms`,
    )
  })

  t.test('SIGTERM: clients told to reconnect, partings announced', async (t) => {
    const stack = await startStack(t, { chatInstances: 1, presenceTimings: TIMINGS })
    await stack.createRooms('friends')
    const child = await startChildChat(t, stack)
    t.teardown(() => {
      if (t.passing()) return
      t.comment(`chat process log:\n${child.logs.join('\n')}`)
    })

    const tokens = { alice: await stack.token('alice'), bob: await stack.token('bob') }
    const leaving = {
      alice: await connectTo(stack, child.url, tokens.alice),
      bob: await connectTo(stack, child.url, tokens.bob),
    }
    const carol = await stack.user('carol', 0)
    await carol.join('friends')
    for (const client of Object.values(leaving)) await client.join('friends')
    await carol.next(joinedBy('bob'))
    const said = await leaving.bob.say('friends', 'see you')

    const reconnects = Object.entries(leaving).map(async ([name, client]) => {
      const closed = await client.closed
      const again = stack.track(
        await ChatClient.connect(stack.chats[0]?.wsUrl as string, {
          token: tokens[name as keyof typeof tokens],
        }),
      )
      return { name, closed, first: await again.next(), again }
    })
    const stoppedAt = performance.now()
    child.process.kill('SIGTERM')
    for (const name of ['alice', 'bob']) {
      t.match(await carol.next(partedBy(name)), { you: false }, `${name}'s parting announced`)
    }
    const partedMs = performance.now() - stoppedAt
    for (const { name, closed, first } of await Promise.all(reconnects)) {
      t.equal(closed.code, 1012, `${name} was told to reconnect elsewhere`)
      t.match(first, { type: 'notification', code: 'api-motd' }, `${name} reconnected at once`)
    }
    t.match(await child.exited, { code: 0 }, 'the process exited cleanly')
    const dave = await stack.user('dave', 0)
    const daveJoined = await dave.join('friends')
    t.same(names(daveJoined.status?.users), ['carol', 'dave'], 'no ghost of the stopped process')
    t.equal(daveJoined.status?.messages[0]?.id, said.id)
    t.comment(`parted ${Math.round(partedMs)} ms after SIGTERM`)
  })
})
