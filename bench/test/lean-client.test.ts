import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { type WebSocket, WebSocketServer } from 'ws'
import { LeanClient, type ReceivedFrame } from '../src/lean-client.js'

// The generator's own websocket client against `ws`'s server: what it must get right for the
// chat servers (the MOTD after the upgrade, large and fragmented frames, pings, close codes).

async function server(t: Test, onConnection: (socket: WebSocket, url: string) => void) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ws/chat' })
  await once(wss, 'listening')
  t.teardown(() => new Promise((resolve) => wss.close(resolve)))
  wss.on('connection', (socket, request) => {
    socket.send(JSON.stringify({ type: 'notification', code: 'api-motd', content: 'hi' }))
    onConnection(socket, request.url ?? '')
  })
  return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws/chat`
}

t.test('connects with the token, past the MOTD, and exchanges frames of every size', async (t) => {
  const requested: string[] = []
  const url = await server(t, (socket, path) => {
    requested.push(path)
    socket.on('message', (data) => {
      const { body } = JSON.parse(String(data))
      // Echoed three ways: whole, in fragments, and once the client has answered a ping.
      socket.send(JSON.stringify({ type: 'echo', body }))
      socket.send('{"type":"echo",', { fin: false })
      socket.send(`"body":${JSON.stringify(body)}}`, { fin: true })
      socket.once('pong', () => socket.send(JSON.stringify({ type: 'echo', body })))
      socket.ping()
    })
  })
  const client = await LeanClient.connect(url, 'user 1', 5000)
  t.teardown(() => client.close(1000))
  t.same(requested, ['/ws/chat?token=user+1'])
  const received: ReceivedFrame[] = []
  client.onFrame = (frame) => received.push(frame)
  // 100 KB: the 64-bit length form both ways, and the frames cut across reads.
  for (const body of ['short', 'x'.repeat(300), 'y'.repeat(100_000)]) {
    received.length = 0
    let echoes = 0
    const third = client.next((frame) => frame.type === 'echo' && ++echoes === 3, 5000)
    client.send(JSON.stringify({ body }))
    await third
    t.same(
      received.map((frame) => frame.body),
      [body, body, body],
      `${body.length} bytes, three times`,
    )
  }
})

t.test('reports the close code the server sent', async (t) => {
  const url = await server(t, (socket) => socket.close(4008, 'slow consumer'))
  const client = await LeanClient.connect(url, 'user', 5000)
  t.same(await client.closed, { code: 4008 })
})

t.test('closes with a handshake the server answers', async (t) => {
  let serverSaw: Promise<unknown[]> | undefined
  const url = await server(t, (socket) => {
    serverSaw = once(socket, 'close')
  })
  const client = await LeanClient.connect(url, 'user', 5000)
  await client.close(5000)
  t.same(await client.closed, { code: 1000 })
  const [code] = (await serverSaw) as [number]
  t.equal(code, 1000)
})

t.test('a frame that is not JSON closes the connection with 1007', async (t) => {
  const url = await server(t, (socket) => socket.send('not json'))
  const client = await LeanClient.connect(url, 'user', 5000).catch((error: Error) => error)
  // The MOTD came first, so the connection was set up; then the bad frame closed it.
  t.ok(client instanceof LeanClient)
  t.same(await (client as LeanClient).closed, { code: 1007 })
})

t.test('a refused upgrade fails the connection', async (t) => {
  const url = await server(t, () => {})
  await t.rejects(LeanClient.connect(url.replace('/ws/chat', '/elsewhere'), 'user', 5000), {
    message: /handshake refused|closed during the websocket handshake/,
  })
})
