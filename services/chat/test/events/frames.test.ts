import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import t from 'tap'
import { WebSocket, WebSocketServer } from 'ws'
import { textFrame } from '../../src/events/frames.js'

// Prepared frames are written to the TCP socket directly: a real websocket client must read
// them as the text messages they carry, whatever their length class.

t.test('a websocket client reads prepared frames as text messages', async (t) => {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  t.teardown(() => server.close())
  await once(server, 'listening')
  const texts = [
    '',
    'hello',
    'x'.repeat(125),
    'é'.repeat(63), // 126 bytes: the first 16-bit length
    `${'😀'.repeat(16_383)}abc`, // 65 535 bytes: the last 16-bit length
    'y'.repeat(65_536), // the first 64-bit length
    JSON.stringify({ body: 'line\nbreak "quoted" \u2028 \uFFFD' }),
  ]
  server.on('connection', (socket) => {
    const raw = (socket as unknown as { _socket: Duplex })._socket
    for (const text of texts) raw.write(textFrame(text))
  })
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`)
  t.teardown(() => client.terminate())
  const received: string[] = []
  await new Promise<void>((resolve, reject) => {
    client.on('error', reject)
    client.on('message', (data, isBinary) => {
      if (isBinary) reject(new Error('a binary frame'))
      received.push(String(data))
      if (received.length === texts.length) resolve()
    })
  })
  t.equal(received.length, texts.length)
  for (const [i, text] of texts.entries()) {
    t.ok(received[i] === text, `message ${i} (${Buffer.byteLength(text)} bytes) intact`)
  }
})
