import websocket from '@fastify/websocket'
import type { ClientFrame } from '@finchat/protocol'
import { ChatClient } from '@finchat/protocol/client'
import type { Session } from '@finchat/sessions'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { DEFAULT_LIMITS } from '../../src/app.js'
import { createMemoryPresence } from '../../src/presence/memory-presence.js'
import { chatSocketRoutes } from '../../src/transport/chat-socket.routes.js'
import {
  type ConnectionLifecycleOptions,
  createConnectionLifecycle,
} from '../../src/transport/connection-lifecycle.js'
import { createConnectionRegistry } from '../../src/transport/connection-registry.js'
import type { HandshakeResult } from '../../src/transport/handshake-auth.js'

// What a connection may do before its handshake is done (its token checked, its user claimed),
// and how long that may take; and a connection outliving its token. A real server and a real
// client; the token check is held by the test, the chat's commands only write down what they get.

const quiet = { debug() {}, warn() {} }

/** A check of the token the test lets through when it wants. */
function heldCheck() {
  let pass: (result: HandshakeResult) => void = () => {}
  const result = new Promise<HandshakeResult>((resolve) => {
    pass = resolve
  })
  return { authenticate: () => result, pass }
}

const sessionOf = (expiresInSeconds: number): Session => ({
  userId: 7,
  username: 'alice',
  isAdmin: false,
  isBot: false,
  sessionId: 's-1',
  expiresAt: Math.floor(Date.now() / 1000) + expiresInSeconds,
})

async function serve(
  t: Test,
  authenticate: ConnectionLifecycleOptions['authenticate'],
  limits: Partial<ConnectionLifecycleOptions['limits']> = {},
) {
  const handled: ClientFrame[] = []
  const left: string[] = []
  const presence = createMemoryPresence('chat-1')
  const lifecycle = createConnectionLifecycle({
    registry: createConnectionRegistry(),
    commands: {
      handle: async (_member, frame) => {
        handled.push(frame)
      },
      leaveAll: async (member) => {
        left.push(member.username)
      },
    },
    presence,
    events: {
      followSessionRevocations: () => ({
        position: '0',
        ready: Promise.resolve(),
        close: async () => {},
      }),
    },
    authenticate,
    limits: { ...DEFAULT_LIMITS, ...limits },
    log: quiet,
    onConnectionCount: () => {},
  })
  const app = Fastify()
  await app.register(websocket)
  await app.register(chatSocketRoutes, { open: lifecycle.open })
  await lifecycle.start()
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => {
    await lifecycle.stop()
    await app.close()
  })
  const address = app.server.address() as { port: number }
  const connect = async () => {
    const client = await ChatClient.connect(`ws://127.0.0.1:${address.port}/ws/chat`, {
      token: 'checked-by-the-test',
    })
    t.teardown(() => client.close())
    return client
  }
  return { connect, handled, left, presence }
}

const help = JSON.stringify({ type: 'help' })

t.test('frames sent while the token is checked are handled afterwards, in order', async (t) => {
  const check = heldCheck()
  const { connect, handled } = await serve(t, check.authenticate, { maxEarlyFrames: 3 })
  const client = await connect()
  client.sendRaw(JSON.stringify({ type: 'join', room_name: 'a' }))
  client.sendRaw(JSON.stringify({ type: 'join', room_name: 'b' }))
  client.sendRaw(help)
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.same(handled, [], 'nothing is handled before the handshake')
  check.pass({ kind: 'authenticated', session: sessionOf(3600), viaToken: true })
  t.match(await client.next(), { code: 'api-motd' })
  while (handled.length < 3) await new Promise((resolve) => setTimeout(resolve, 10))
  t.same(
    handled.map((frame) => ('room_name' in frame ? frame.room_name : frame.type)),
    ['a', 'b', 'help'],
  )
})

t.test('more frames before the handshake than the server keeps: closed with 1008', async (t) => {
  const check = heldCheck()
  const { connect, handled, presence } = await serve(t, check.authenticate, {
    maxEarlyFrames: 3,
  })
  const client = await connect()
  for (let i = 0; i < 4; i++) client.sendRaw(help)
  t.match(await client.closed, { code: 1008, reason: /before the handshake/ })
  check.pass({ kind: 'authenticated', session: sessionOf(3600), viaToken: true })
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.same(handled, [], 'none of them was handled')
  t.equal(await presence.claimUser(7), true, 'and the user was not claimed')
})

t.test('more bytes before the handshake than the server keeps: closed with 1008', async (t) => {
  const check = heldCheck()
  const { connect } = await serve(t, check.authenticate, { maxEarlyBytes: 4096 })
  const client = await connect()
  const big = JSON.stringify({ type: 'message', room_name: 'a', body: 'x'.repeat(3000) })
  client.sendRaw(big)
  client.sendRaw(big)
  t.match(await client.closed, { code: 1008 })
})

t.test('a handshake that takes too long: closed with 1013, nothing claimed', async (t) => {
  const check = heldCheck()
  const { connect, presence } = await serve(t, check.authenticate, { handshakeTimeoutMs: 300 })
  const client = await connect()
  t.match(await client.closed, { code: 1013, reason: 'try again later' })
  check.pass({ kind: 'authenticated', session: sessionOf(3600), viaToken: true })
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(await presence.claimUser(7), true, 'the late check claimed nobody')
})

t.test('a connection whose token expires is told so and closed with 1000', async (t) => {
  const session = sessionOf(2)
  const { connect, left, presence } = await serve(t, async () => ({
    kind: 'authenticated',
    session,
    viaToken: true,
  }))
  const client = await connect()
  t.match(await client.next(), { code: 'api-motd' })
  t.same(await client.next(undefined, 5000), {
    type: 'notification',
    code: 'logged-out',
    reason: 'expired',
  })
  t.equal((await client.closed).code, 1000)
  t.ok(Date.now() >= session.expiresAt * 1000, 'not before the token expired')
  while (left.length === 0) await new Promise((resolve) => setTimeout(resolve, 10))
  t.same(left, ['alice'], 'its rooms were left')
  t.equal(await presence.claimUser(7), true, 'and its user released')
})
