import type { Socket } from 'node:net'
import type { ChatClient } from '@finchat/protocol/client'
import { startStack } from '@finchat/testing'
import t from 'tap'

/** Stops reading from the socket, as a stalled or vanished client would. */
const stopReading = (client: ChatClient) =>
  (client.socket as unknown as { _socket: Socket })._socket.pause()
const resumeReading = (client: ChatClient) =>
  (client.socket as unknown as { _socket: Socket })._socket.resume()

const partedBy = (user: string) => (frame: { type: string; code?: string; user?: string }) =>
  frame.type === 'room:notification' && frame.code === 'parted' && frame.user === user

t.test('a client that stops reading is let go without slowing the room', async (t) => {
  const stack = await startStack(t, {
    limits: { maxBufferedBytes: 64 * 1024, rateLimit: { burst: 10_000, perSecond: 1000 } },
  })
  await stack.createRooms('friends')
  const slow = await stack.user('slow')
  const alice = await stack.user('alice')
  await slow.join('friends')
  await alice.join('friends')
  for (let i = 0; i < 50; i++) await alice.say('friends', `${i} ${'x'.repeat(500)}`)

  stopReading(slow)
  // Each answer is about 30 KB: the server's outbound buffer for `slow` fills up quickly.
  for (let i = 0; i < 400; i++) slow.send({ type: 'history', room_name: 'friends' })

  await alice.next(partedBy('slow'), 15_000)
  const echo = await alice.say('friends', 'still here')
  t.equal(echo.body, 'still here', 'the room goes on for the others')

  resumeReading(slow)
  const closed = await slow.closed
  t.equal(closed.code, 4008, 'closed as a slow consumer')
})

t.test('a peer that stops answering pings is dropped and parted', async (t) => {
  const stack = await startStack(t, { limits: { pingIntervalMs: 200 } })
  await stack.createRooms('friends')
  const gone = await stack.user('gone')
  const alice = await stack.user('alice')
  await gone.join('friends')
  await alice.join('friends')

  const healthy = await alice.say('friends', 'pings are answered while reading')
  t.ok(healthy.id)
  stopReading(gone)
  await alice.next(partedBy('gone'), 5000)
  t.pass('the silent peer was parted')
  // The user may come back at once.
  const back = await stack.connect(await stack.login('gone'))
  t.match(await back.next(), { type: 'notification', code: 'api-motd' })
})
