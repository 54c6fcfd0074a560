import type { Bus } from '@finchat/bus'
import type { MessageNotification, ServerFrame } from '@finchat/protocol'
import type { ChatClient } from '@finchat/protocol/client'
import t from 'tap'
import { answersTo, inRoom, isHistory, messageIn, startStory } from './helpers/client-story.js'

// A message is stored, then appended to the event stream. When Redis refuses the append, the
// entry may be in the stream all the same (only the reply was lost): members may have the
// message. The instance asks the stream before it removes anything, as the reaper of a dead
// instance does, and removes only what nobody can have received.

/** What the chat instance's Redis does to the next append of a body, and to stream reads. */
const faults = {
  /** Written, then the reply lost. */
  lostReply: new Set<string>(),
  /** Refused before anything is written. */
  refused: new Set<string>(),
  /** Reads of the stream fail. */
  unreadable: false,
}

const faulty = (bus: Bus): Bus => ({
  ...bus,
  async append(stream, data, fence) {
    const body = (data as { body?: unknown }).body
    if (typeof body === 'string' && faults.refused.delete(body)) {
      throw new Error('redis: connection lost')
    }
    const id = await bus.append(stream, data, fence)
    if (typeof body === 'string' && faults.lostReply.delete(body)) {
      throw new Error('redis: command timed out')
    }
    return id
  },
  range(stream, after, count) {
    if (faults.unreadable) return Promise.reject(new Error('redis: connection lost'))
    return bus.range(stream, after, count)
  },
})

const story = await startStory(t, { chatBus: faulty })
await story.stack.createRooms('faults')
const alice = await story.user('alice')
const bob = await story.user('bob')
await alice.join('faults')
await bob.join('faults')
await alice.next((f) => f.type === 'room:notification' && f.user === 'bob')

const send = (body: string, clientId?: string) =>
  alice.send({
    type: 'message',
    room_name: 'faults',
    body,
    ...(clientId !== undefined && { client_id: clientId }),
  })
const ownEcho = (client: ChatClient) =>
  client.next((f): f is MessageNotification => messageIn('faults')(f) && f.you)

async function history(client: ChatClient) {
  client.send({ type: 'history', room_name: 'faults' })
  return (await client.next(isHistory)).messages.map((m) => ({ id: m.id, body: m.body }))
}

/** Bob's view of the room up to a sentinel alice sends once all before it was handled. */
async function bobSawBefore() {
  const sentinel = `sentinel ${Math.random()}`
  await alice.say('faults', sentinel)
  const seen: ServerFrame[] = []
  for (;;) {
    const frame = await bob.next(inRoom('faults'))
    if (frame.type === 'room:notification' && frame.code === 'message' && frame.body === sentinel)
      return seen
    seen.push(frame)
  }
}

t.test('the reply of an append is lost: kept, and the sender is not refused', async (t) => {
  faults.lostReply.add('lost reply')
  send('lost reply')
  const echo = await ownEcho(alice)
  t.match(echo, { body: 'lost reply', you: true }, 'the sender gets its echo')
  t.same(await answersTo(alice), [], 'and no error')
  t.match(await bob.next(messageIn('faults')), { id: echo.id, body: 'lost reply' })
  t.same(
    (await history(bob)).filter((m) => m.id === echo.id),
    [{ id: echo.id, body: 'lost reply' }],
    'what bob received is in the history',
  )
})

t.test('an append refused before it was written: removed, internal-error', async (t) => {
  faults.refused.add('refused')
  send('refused', 'r-1')
  t.same(
    await alice.next((f) => f.type === 'error'),
    { type: 'error', code: 'internal-error', client_id: 'r-1' },
    'the sender is refused',
  )
  t.same(await bobSawBefore(), [], 'bob saw nothing')
  t.notOk(
    (await history(alice)).some((m) => m.body === 'refused'),
    'and the history has nothing of it',
  )
  send('refused', 'r-1')
  const echo = await ownEcho(alice)
  t.match(echo, { body: 'refused', client_id: 'r-1' }, 'sent again, it is stored now')
  t.match(await bob.next(messageIn('faults')), { id: echo.id, body: 'refused' })
})

t.test('the stream cannot be read: kept, internal-error; sent again, the echo', async (t) => {
  faults.refused.add('unknown fate')
  faults.unreadable = true
  t.teardown(() => {
    faults.unreadable = false
  })
  send('unknown fate', 'u-1')
  t.same(
    await alice.next((f) => f.type === 'error'),
    { type: 'error', code: 'internal-error', client_id: 'u-1' },
    'the sender is refused',
  )
  const kept = (await history(alice)).filter((m) => m.body === 'unknown fate')
  t.equal(kept.length, 1, 'kept: whether members have it cannot be told')
  faults.unreadable = false
  send('unknown fate', 'u-1')
  t.match(
    await ownEcho(alice),
    { id: kept[0]?.id, body: 'unknown fate', client_id: 'u-1' },
    'sent again under its client_id: answered with the kept one',
  )
  t.same(
    (await history(alice)).filter((m) => m.body === 'unknown fate'),
    kept,
    'stored once',
  )
})

t.test('every frame conforms', async (t) => story.conformance(t))
