import type { IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { type WebSocket, WebSocketServer } from 'ws'
import { ChatClient, ChatError } from '../src/client/index.js'
import type { ServerFrame } from '../src/index.js'

type Handler = (socket: WebSocket, request: IncomingMessage) => void

/** A scripted stand-in for the chat service; `onConnection` decides what it does. */
async function fakeServer(t: Test, onConnection: Handler) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  const requests: IncomingMessage[] = []
  server.on('connection', (socket, request) => {
    requests.push(request)
    onConnection(socket, request)
  })
  await new Promise((resolve) => server.once('listening', resolve))
  t.teardown(() => {
    for (const client of server.clients) client.terminate()
    return new Promise((resolve) => server.close(resolve))
  })
  const { port } = server.address() as AddressInfo
  return { url: `ws://127.0.0.1:${port}/ws/chat`, requests }
}

const sendJson = (socket: WebSocket, frame: unknown) => socket.send(JSON.stringify(frame))
const motd = { type: 'notification', code: 'api-motd', content: 'hi' }
const stamp = '2026-11-27 12:12:13'

t.test('the token travels in the Authorization header by default', async (t) => {
  const { url, requests } = await fakeServer(t, () => {})
  const client = await ChatClient.connect(url, {
    token: 'abc',
    origin: 'http://localhost:8000',
    headers: { 'x-extra': '1' },
  })
  t.teardown(() => client.close())
  t.equal(requests[0]?.headers.authorization, 'Token abc')
  t.equal(requests[0]?.headers.origin, 'http://localhost:8000')
  t.equal(requests[0]?.headers['x-extra'], '1')
  t.equal(requests[0]?.url, '/ws/chat')
})

t.test('or in the query string', async (t) => {
  const { url, requests } = await fakeServer(t, () => {})
  const client = await ChatClient.connect(`${url}?x=1`, { token: 'a b&c', tokenIn: 'query' })
  t.teardown(() => client.close())
  t.equal(requests[0]?.headers.authorization, undefined)
  const seen = new URL(requests[0]?.url ?? '', 'http://x')
  t.equal(seen.searchParams.get('token'), 'a b&c')
  t.equal(seen.searchParams.get('x'), '1')
})

t.test('frames sent right after the handshake are not lost', async (t) => {
  const { url } = await fakeServer(t, (socket) => {
    sendJson(socket, { type: 'fatal', code: 'not-authenticated' })
    socket.close(1000)
  })
  const client = await ChatClient.connect(url)
  t.strictSame(await client.closed, { code: 1000, reason: '' })
  t.strictSame(await client.next(), { type: 'fatal', code: 'not-authenticated' })
  await t.rejects(client.next(), /connection closed \(1000\)/, 'nothing more will come')
})

t.test('next takes matching frames in order and leaves the others queued', async (t) => {
  const { url } = await fakeServer(t, (socket) => {
    sendJson(socket, motd)
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString())
      sendJson(socket, { type: 'error', code: 'invalid-format', n: 1 })
      sendJson(socket, { type: 'notification', code: 'help', help: frame.type })
      sendJson(socket, { type: 'error', code: 'invalid-format', n: 2 })
    })
  })
  const client = await ChatClient.connect(url, { token: 't' })
  t.teardown(() => client.close())
  const isHelp = (f: ServerFrame) => f.type === 'notification' && f.code === 'help'
  client.send({ type: 'help' })
  t.match(await client.next(isHelp), { help: 'help' }, 'skips what does not match')
  t.strictSame(await client.next(), motd, 'the skipped frames are still there, oldest first')
  t.match(await client.next(), { n: 1 })
  t.match(await client.next(), { n: 2 })
  t.equal(client.frames.length, 4, 'frames keeps everything received')

  const pending = [client.next(), client.next()]
  client.send({ type: 'list' })
  t.match(await Promise.all(pending), [{ n: 1 }, { help: 'list' }], 'waiters are served in order')
})

t.test('next rejects after its timeout and forgets the waiter', async (t) => {
  const { url } = await fakeServer(t, (socket) => {
    socket.on('message', () => sendJson(socket, motd))
  })
  const client = await ChatClient.connect(url)
  t.teardown(() => client.close())
  await t.rejects(client.next(undefined, 50), /no matching frame within 50 ms/)
  client.send({ type: 'help' })
  t.strictSame(await client.next(), motd, 'the frame went to the inbox, not to the dead waiter')
})

t.test('a throwing predicate fails its own call only', async (t) => {
  const { url } = await fakeServer(t, (socket) => sendJson(socket, motd))
  const client = await ChatClient.connect(url)
  t.teardown(() => client.close())
  await t.rejects(
    client.next(() => {
      throw new Error('boom')
    }),
    /boom/,
  )
  await t.rejects(
    client.next(() => {
      throw new Error('boom again')
    }),
    /boom again/,
    'also when it throws on a queued frame',
  )
  t.strictSame(await client.next(), motd)
})

t.test('join and say resolve with the own notifications and reject on errors', async (t) => {
  let nextId = 1
  const { url } = await fakeServer(t, (socket) => {
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString())
      const room_name = frame.room_name
      if (frame.type === 'join' && room_name === 'nope') {
        sendJson(socket, { type: 'error', code: 'room:invalid', details: { name: 'nope' } })
      } else if (frame.type === 'join') {
        const base = { type: 'room:notification', code: 'joined', user: 'bob', room_name, stamp }
        sendJson(socket, { ...base, you: false, status: null })
        sendJson(socket, { ...base, user: 'me', you: true, status: { users: [], messages: [] } })
      } else if (frame.type === 'message' && frame.body.trim() === '') {
        sendJson(socket, { type: 'error', code: 'room:empty-message' })
      } else if (frame.type === 'message') {
        const base = { type: 'room:notification', code: 'message', room_name, stamp }
        sendJson(socket, { ...base, id: nextId++, user: 'bob', you: false, body: 'other' })
        sendJson(socket, { ...base, id: nextId++, user: 'me', you: true, body: frame.body.trim() })
      }
    })
  })
  const client = await ChatClient.connect(url)
  t.teardown(() => client.close())

  const joined = await client.join('friends')
  t.match(joined, { you: true, user: 'me', room_name: 'friends', status: { users: [] } })
  const said = await client.say('friends', ' hello ')
  t.match(said, { id: 2, you: true, body: 'hello' })

  const error = await client.join('nope').catch((e: unknown) => e)
  t.ok(error instanceof ChatError)
  t.match(error, { frame: { code: 'room:invalid', details: { name: 'nope' } } })
  await t.rejects(client.say('friends', '  '), {
    name: 'ChatError',
    frame: { code: 'room:empty-message' },
  })

  t.match(await client.next(), { code: 'joined', you: false }, 'other frames stay queued')
  t.match(await client.next(), { code: 'message', you: false })
})

t.test("say carries a client id and a card, and takes only its own message's error", async (t) => {
  const received: Record<string, unknown>[] = []
  const { url } = await fakeServer(t, (socket) => {
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString())
      received.push(frame)
      const { room_name, client_id } = frame
      if (frame.body === 'refused') {
        // Another message's refusal comes first: it is not this send's answer.
        const refusal = { type: 'error', code: 'room:invalid-card', details: { name: room_name } }
        sendJson(socket, { ...refusal, client_id: 'someone-else' })
        sendJson(socket, { ...refusal, client_id })
        return
      }
      const echo = { type: 'room:notification', code: 'message', room_name, stamp, id: 1 }
      sendJson(socket, {
        ...echo,
        user: 'bot',
        you: true,
        body: frame.body,
        client_id,
        card: frame.card,
      })
    })
  })
  const client = await ChatClient.connect(url)
  t.teardown(() => client.close())
  const card = {
    kind: 'quote' as const,
    symbol: 'AAPL.US',
    date: '2026-11-27',
    time: '22:00:07',
    open: 1,
    high: 2,
    low: 0.5,
    close: 1.5,
    volume: 10,
  }
  t.match(await client.say('friends', 'AAPL.US quote is $1.50 per share', 1000, 'q:1', card), {
    you: true,
    client_id: 'q:1',
    card: { symbol: 'AAPL.US' },
  })
  t.same(received[0], {
    type: 'message',
    room_name: 'friends',
    body: 'AAPL.US quote is $1.50 per share',
    client_id: 'q:1',
    card,
  })
  const refused = await client.say('friends', 'refused', 1000, 'q:2', card).catch((e: unknown) => e)
  t.match(refused, { name: 'ChatError', frame: { code: 'room:invalid-card', client_id: 'q:2' } })
  t.match(await client.say('friends', 'plain'), { body: 'plain' })
  t.notOk('card' in (received[2] ?? {}), 'no card key without a card')
})

t.test('a server frame that is not JSON closes the connection loudly', async (t) => {
  const { url } = await fakeServer(t, (socket) => socket.send('garbage'))
  const client = await ChatClient.connect(url)
  t.match(await client.closed, { code: 1007 })
  t.equal(client.frames.length, 0)
})

t.test('maxBuffered bounds what is kept', async (t) => {
  const { url } = await fakeServer(t, (socket) => {
    socket.on('message', () => {
      for (let n = 0; n < 10; n++) sendJson(socket, { ...motd, content: `${n}` })
    })
  })
  const client = await ChatClient.connect(url, { maxBuffered: 3 })
  t.teardown(() => client.close())
  const seen: ServerFrame[] = []
  client.onFrame((frame) => seen.push(frame))
  client.send({ type: 'help' })
  await client.next((f) => f.type === 'notification' && f.code === 'api-motd' && f.content === '9')
  t.equal(seen.length, 10, 'listeners see every frame')
  t.equal(client.frames.length, 3)
  t.match(client.frames[0], { content: '7' })
  t.match(await client.next(undefined, 10), { content: '6' }, 'the inbox keeps the latest')
})

t.test('a failed handshake rejects connect', async (t) => {
  await t.rejects(ChatClient.connect('ws://127.0.0.1:1/ws/chat'), { code: 'ECONNREFUSED' })
})

t.test('close resolves with the close info, and again when called twice', async (t) => {
  const { url } = await fakeServer(t, () => {})
  const client = await ChatClient.connect(url)
  t.strictSame(await client.close(4000, 'bye'), { code: 4000, reason: 'bye' })
  t.strictSame(await client.close(), { code: 4000, reason: 'bye' })
})
