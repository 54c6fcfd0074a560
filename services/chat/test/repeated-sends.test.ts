import type { MessageNotification, ServerFrame } from '@finchat/protocol'
import type { ChatClient } from '@finchat/protocol/client'
import t from 'tap'
import {
  answersTo,
  answerTo,
  inRoom,
  isHistory,
  isMotd,
  messageIn,
  partedBy,
  startStory,
} from './helpers/client-story.js'

// The client_id extension: a message sent again under the name its sender gave it (a client
// that lost the connection before the echo, and cannot tell whether it was stored) is stored
// once, and the sender alone gets the original's echo again. Clients without it see no change.

const story = await startStory(t)
const { stack } = story
await stack.createRooms('repeats', 'elsewhere', 'names', 'plain', 'refusals')

const send = (client: ChatClient, room: string, body: string, clientId?: unknown) =>
  client.sendRaw(
    JSON.stringify({
      type: 'message',
      room_name: room,
      body,
      ...(clientId !== undefined && { client_id: clientId }),
    }),
  )

/** The sender's own echo of the next message it sends in `room`. */
const ownEcho = (client: ChatClient, room: string) =>
  client.next((f): f is MessageNotification => messageIn(room)(f) && f.you)

/** The room's stored messages, oldest first, as a member reads them. */
async function stored(client: ChatClient, room: string) {
  client.send({ type: 'history', room_name: room })
  const { messages } = await client.next(isHistory)
  return messages.reverse().map(({ id, user, body }) => ({ id, user, body }))
}

/**
 * What a member sees of the room before the sentinel: sent by `sender` once everything before
 * it was handled, it proves the room was shown nothing else.
 */
async function seenBefore(sender: ChatClient, observer: ChatClient, room: string) {
  const sentinel = `sentinel ${Math.random()}`
  await sender.say(room, sentinel)
  const seen: ServerFrame[] = []
  for (;;) {
    const frame = await observer.next(inRoom(room))
    if (frame.type === 'room:notification' && frame.code === 'message' && frame.body === sentinel)
      return seen
    seen.push(frame)
  }
}

t.test('sent twice under one client_id: stored once, the sender alone sees it again', async (t) => {
  const alice = await story.user('alice')
  const bob = await story.user('bob')
  await alice.join('repeats')
  await bob.join('repeats')
  await alice.next((f) => f.type === 'room:notification' && f.user === 'bob')

  send(alice, 'repeats', 'hello', 'msg-1')
  const echo = await ownEcho(alice, 'repeats')
  t.match(echo, { body: 'hello', you: true, user: 'alice', client_id: 'msg-1' })
  const seen = await bob.next(messageIn('repeats'))
  t.match(seen, { id: echo.id, body: 'hello', you: false })
  t.notOk('client_id' in seen, 'the other members are not told the name')

  // The same name again, even with another body (a client re-sending what it typed anew).
  send(alice, 'repeats', 'hello, again', 'msg-1')
  t.same(
    await ownEcho(alice, 'repeats'),
    echo,
    'the original echo again: the same id, body, stamp and client_id, you: true',
  )
  t.same(await seenBefore(alice, bob, 'repeats'), [], 'bob saw it once')
  const history = await stored(bob, 'repeats')
  t.same(
    history.filter((m) => m.body.startsWith('hello')),
    [{ id: echo.id, user: 'alice', body: 'hello' }],
    'one row in the history',
  )

  // After a reconnection, which is when a client re-sends what was left unanswered.
  const token = await stack.login('alice')
  await alice.close()
  await bob.next(partedBy('alice', 'repeats'))
  const again = await story.connect(token)
  t.ok(isMotd(await again.next()))
  await again.join('repeats')
  send(again, 'repeats', 'hello', 'msg-1')
  t.same(await ownEcho(again, 'repeats'), echo, 'the new connection gets the original echo')
  t.same(
    (await seenBefore(again, bob, 'repeats')).filter((f) => f.code === 'message'),
    [],
    'and the room sees nothing of it',
  )
})

t.test('the name is the sender’s own, in one room', async (t) => {
  const carol = await story.user('carol')
  const dave = await story.user('dave')
  for (const client of [carol, dave]) {
    await client.join('names')
    await client.join('elsewhere')
  }
  send(carol, 'names', 'from carol', 'shared-name')
  const carols = await ownEcho(carol, 'names')
  send(dave, 'names', 'from dave', 'shared-name')
  const daves = await ownEcho(dave, 'names')
  t.not(daves.id, carols.id, 'two users with the same client_id store two messages')
  t.equal(daves.body, 'from dave')
  send(carol, 'elsewhere', 'in another room', 'shared-name')
  const other = await ownEcho(carol, 'elsewhere')
  t.equal(other.body, 'in another room', 'the same name in another room is another message')
  t.same(
    (await stored(carol, 'names')).map((m) => m.body),
    ['from carol', 'from dave'],
  )
})

t.test('without a client_id, nothing changes: each send is a message', async (t) => {
  const erin = await story.user('erin')
  await erin.join('plain')
  const first = await erin.say('plain', 'twice')
  const second = await erin.say('plain', 'twice')
  t.not(second.id, first.id, 'two sends, two messages')
  t.notOk('client_id' in first, 'the echo has no client_id')
  t.same(
    (await stored(erin, 'plain')).map((m) => m.body),
    ['twice', 'twice'],
  )
})

t.test('a client_id that is not a short visible name: invalid-format, still open', async (t) => {
  const frank = await story.user('frank')
  await frank.join('refusals')
  const bad: unknown[] = [42, null, '', 'x'.repeat(65), 'with space', 'nul\u0000', ['a']]
  for (const clientId of bad) {
    const answer = await answerTo(t, frank, {
      type: 'message',
      room_name: 'refusals',
      body: 'hi',
      client_id: clientId,
    })
    t.same(
      answer,
      { type: 'error', code: 'invalid-format' },
      `client_id ${JSON.stringify(clientId)}`,
    )
  }
  t.same(await stored(frank, 'refusals'), [], 'nothing stored')

  // Errors answering a message with a name carry it, so the client knows which one it was.
  t.same(
    await answersTo(
      frank,
      { type: 'message', room_name: 'refusals', body: '   ', client_id: 'empty-1' },
      { type: 'message', room_name: 'repeats', body: 'not a member', client_id: 'away-1' },
      { type: 'message', room_name: 'refusals', body: 'x'.repeat(513), client_id: 'long-1' },
    ),
    [
      { type: 'error', code: 'room:empty-message', client_id: 'empty-1' },
      {
        type: 'error',
        code: 'room:not-joined',
        details: { name: 'repeats' },
        client_id: 'away-1',
      },
      { type: 'error', code: 'room:message-too-long', details: { max: 512 }, client_id: 'long-1' },
    ],
  )
  // A name refused with its message is free: nothing was stored under it.
  send(frank, 'refusals', 'now right', 'empty-1')
  t.match(await ownEcho(frank, 'refusals'), { body: 'now right', client_id: 'empty-1' })
})

t.test('every frame conforms', async (t) => story.conformance(t))
