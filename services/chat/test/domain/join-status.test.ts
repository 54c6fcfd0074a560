import type { ChatEvent } from '@finchat/protocol'
import t from 'tap'
import { createJoinStatus } from '../../src/domain/join-status.js'
import type { Member } from '../../src/domain/member.js'
import type { MessagesRepository, StoredMessage } from '../../src/domain/messages.repository.js'
import type { Presence } from '../../src/presence/presence.js'

// A joiner's status is read while its `joined` travels the stream: what the room's events
// change meanwhile is applied to the reads, so the joiner sees the room as of its own echo.

const ROOM = { id: 4, name: 'lobby' }
const STAMP = '2026-11-28 04:00:00'
const stored = (id: number, username: string): StoredMessage => ({
  id,
  username,
  body: `m${id}`,
  created_at: new Date('2026-11-28T04:00:00Z'),
})
const message = (id: number, user: string): ChatEvent => ({
  type: 'room.message',
  id,
  room: ROOM.name,
  user,
  body: `m${id}`,
  stamp: STAMP,
  instance: 'chat-2',
})
const joined = (user: string): ChatEvent => ({
  type: 'room.joined',
  room: ROOM.name,
  room_id: ROOM.id,
  user,
  stamp: STAMP,
  instance: 'chat-2',
  connection: `c-${user}`,
})
const parted = (user: string): ChatEvent => ({
  type: 'room.parted',
  room: ROOM.name,
  user,
  stamp: STAMP,
  instance: 'chat-2',
  connection: `c-${user}`,
})

/** A room whose membership and history reads are counted and answered as given. */
function room(members: string[], history: StoredMessage[]) {
  const reads = { members: 0, history: 0 }
  const presence = {
    members: async () => {
      reads.members++
      return members
    },
  } as unknown as Presence
  const messages = {
    page: async () => {
      reads.history++
      return history
    },
  } as unknown as MessagesRepository
  return { presence, messages, reads }
}

const carol = { username: 'carol' } as Member
const log = { error: () => {} }

t.test('changes between the reads and the echo are part of the status', async (t) => {
  const { presence, messages, reads } = room(
    ['alice', 'bob'],
    [stored(10, 'bob'), stored(9, 'alice')],
  )
  const status = createJoinStatus({ presence, messages, log })
  status.begin(carol, ROOM)
  // Dispatched meanwhile, before carol's own joined: dave joins, bob leaves, two messages,
  // one of which the history read already holds.
  for (const event of [joined('dave'), message(10, 'bob'), parted('bob'), message(11, 'dave')]) {
    status.observe(event)
  }
  status.observe(joined('carol'))
  const result = status.statusFor(carol, ROOM)
  // After the echo: carol receives these live, so they are not in her status.
  status.observe(message(12, 'alice'))
  status.observe(joined('erin'))
  t.same(await result, {
    users: [
      { name: 'alice', you: false },
      { name: 'carol', you: true },
      { name: 'dave', you: false },
    ],
    messages: [
      { id: 11, stamp: STAMP, user: 'dave', you: false, body: 'm11' },
      { id: 10, stamp: STAMP, user: 'bob', you: false, body: 'm10' },
      { id: 9, stamp: STAMP, user: 'alice', you: false, body: 'm9' },
    ],
  })
  t.same(reads, { members: 1, history: 1 }, 'read once, when the join began')
})

t.test('the status holds at most a page of history, newest first', async (t) => {
  const history = Array.from({ length: 50 }, (_, i) => stored(60 - i, 'bob'))
  const { presence, messages } = room(['bob'], history)
  const status = createJoinStatus({ presence, messages, log })
  status.begin(carol, ROOM)
  status.observe(message(61, 'bob'))
  status.observe(message(62, 'carol'))
  const result = await status.statusFor(carol, ROOM)
  t.equal(result.messages.length, 50)
  t.same(
    result.messages.slice(0, 3).map((m) => [m.id, m.you]),
    [
      [62, true],
      [61, false],
      [60, false],
    ],
  )
  t.equal(result.messages.at(-1)?.id, 13)
})

t.test('a join with too much going on, or not begun here, reads afresh on the echo', async (t) => {
  const { presence, messages, reads } = room(['bob'], [])
  const status = createJoinStatus({ presence, messages, log, maxWatchedEvents: 3 })
  status.begin(carol, ROOM)
  for (const user of ['d', 'e', 'f', 'g']) status.observe(joined(user))
  t.same((await status.statusFor(carol, ROOM)).users, [
    { name: 'bob', you: false },
    { name: 'carol', you: true },
  ])
  t.same(reads, { members: 2, history: 2 }, 'the reads of the join, then fresh ones')

  const dave = { username: 'dave' } as Member
  t.same((await status.statusFor(dave, ROOM)).users.length, 2, 'dave and bob')
  t.same(reads, { members: 3, history: 3 })
})

t.test('a cancelled join stops watching the room', async (t) => {
  const { presence, messages, reads } = room([], [])
  const status = createJoinStatus({ presence, messages, log })
  status.begin(carol, ROOM)
  status.cancel(carol, ROOM.name)
  status.observe(joined('dave'))
  t.same(
    (await status.statusFor(carol, ROOM)).users,
    [{ name: 'carol', you: true }],
    'read afresh: dave, seen by no watch, is not in it',
  )
  t.same(reads, { members: 2, history: 2 })
})

t.test('a failing read leaves its part empty rather than the status withheld', async (t) => {
  const errors: string[] = []
  const presence = {
    members: async () => {
      throw new Error('redis down')
    },
  } as unknown as Presence
  const messages = { page: async () => [stored(3, 'bob')] } as unknown as MessagesRepository
  const status = createJoinStatus({
    presence,
    messages,
    log: { error: (_, msg) => errors.push(msg) },
  })
  status.begin(carol, ROOM)
  const result = await status.statusFor(carol, ROOM)
  t.same(result.users, [{ name: 'carol', you: true }])
  t.same(
    result.messages.map((m) => m.id),
    [3],
  )
  t.same(errors, ['could not read a room membership'])
})

t.test('a card travels into the status, from the history read and from the events', async (t) => {
  const card = {
    kind: 'quote' as const,
    symbol: 'AAPL.US',
    date: '2026-11-27',
    time: '22:00:09',
    open: 1,
    high: 2,
    low: 0.5,
    close: 1.5,
    volume: 10,
  }
  const { presence, messages } = room(['finbot'], [{ ...stored(20, 'finbot'), card }])
  const status = createJoinStatus({ presence, messages, log })
  status.begin(carol, ROOM)
  status.observe({
    type: 'room.message',
    id: 21,
    room: ROOM.name,
    user: 'finbot',
    body: 'm21',
    stamp: STAMP,
    card: { ...card, close: 1.75 },
  })
  status.observe(message(22, 'finbot'))
  status.observe(joined('carol'))
  const result = await status.statusFor(carol, ROOM)
  t.same(
    result.messages.map((m) => [m.id, m.card?.close]),
    [
      [22, undefined],
      [21, 1.75],
      [20, 1.5],
    ],
  )
  t.notOk('card' in (result.messages[0] as object), 'no card key on a message without one')
})
