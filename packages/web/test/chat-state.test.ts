import type { ServerFrame } from '@finchat/protocol'
import t from 'tap'
import {
  type ChatState,
  initialChatState,
  reduceChat,
  roomsToRejoin,
  SERVER_LOGS,
  toResend,
} from '../src/chat/chat-state.js'

// What the room views show, from the frames the server sends: the state logic of the web UI.

const stamp = '2026-11-27 12:00:00'
const frames = (state: ChatState, ...list: ServerFrame[]) =>
  list.reduce((s, frame) => reduceChat(s, { type: 'frame', frame, at: 0 }), state)
const message = (id: number, user: string, body: string, you = false): ServerFrame => ({
  type: 'room:notification',
  code: 'message',
  id,
  you,
  user,
  room_name: 'investments',
  body,
  stamp,
})
const listed: ServerFrame = {
  type: 'notification',
  code: 'list',
  list: [
    { name: 'family', joined: false },
    { name: 'investments', joined: false },
  ],
}
const ownJoin = (messages: Array<{ id: number; user: string; body: string }>): ServerFrame => ({
  type: 'room:notification',
  code: 'joined',
  you: true,
  user: 'alice',
  room_name: 'investments',
  stamp,
  status: {
    users: [
      { name: 'alice', you: true },
      { name: 'bob', you: false },
    ],
    // Newest first, as the server sends them.
    messages: messages.map((m) => ({ ...m, stamp, you: false })).reverse(),
  },
})

t.test('joining shows the history oldest first, then live lines in order', async (t) => {
  let state = frames(initialChatState, listed)
  t.same(state.names, ['family', 'investments'])
  state = frames(
    state,
    ownJoin([
      { id: 1, user: 'bob', body: 'first' },
      { id: 2, user: 'bob', body: 'second' },
    ]),
  )
  const room = state.rooms.investments
  t.equal(room?.joined, true)
  t.same(room?.users, ['alice', 'bob'])
  t.same(
    room?.lines.map((l) => (l.kind === 'message' ? l.body : l.kind)),
    ['first', 'second', 'joined'],
  )
  state = frames(
    state,
    {
      type: 'room:notification',
      code: 'joined',
      you: false,
      user: 'carol',
      room_name: 'investments',
      stamp,
      status: null,
    },
    message(3, 'carol', 'hello'),
    {
      type: 'room:notification',
      code: 'custom',
      you: false,
      user: 'carol',
      room_name: 'investments',
      command: 'stock',
      payload: 'aapl.us',
      stamp,
    },
    {
      type: 'room:notification',
      code: 'parted',
      you: false,
      user: 'bob',
      room_name: 'investments',
      stamp,
    },
  )
  t.same(state.rooms.investments?.users, ['alice', 'carol'])
  t.same(
    state.rooms.investments?.lines.slice(-4).map((l) => l.kind),
    ['joined', 'message', 'custom', 'parted'],
  )
})

t.test("a bot's card comes with its message, live and from the history", async (t) => {
  const card = {
    kind: 'quote',
    symbol: 'AAPL.US',
    date: '2026-11-27',
    time: '22:00:09',
    open: 93.1,
    high: 94.2,
    low: 92.8,
    close: 93.42,
    volume: 1234567,
    previous_close: 92.1,
  } as const
  const joined = frames(initialChatState, listed, ownJoin([{ id: 1, user: 'finbot', body: 'old' }]))
  const withStored: ServerFrame = {
    type: 'notification',
    code: 'history',
    room_name: 'investments',
    messages: [
      { id: 2, user: 'finbot', body: 'AAPL.US quote is $93.42 per share', stamp, you: false, card },
    ],
  }
  const live = { ...(message(3, 'finbot', 'AAPL.US quote is $93.42 per share') as object), card }
  const state = frames(joined, withStored, live as ServerFrame, message(4, 'bob', 'nice'))
  const cards = state.rooms.investments?.lines.map((l) => (l.kind === 'message' ? l.card : l.kind))
  t.same(cards, [undefined, 'joined', card, card, undefined], 'a message without one has none')
})

t.test('unread counts grow only for rooms not on screen, and clear when opened', async (t) => {
  let state = frames(initialChatState, listed, ownJoin([]))
  t.equal(state.active, SERVER_LOGS)
  state = frames(
    state,
    message(5, 'bob', 'one'),
    message(6, 'bob', 'two'),
    message(7, 'alice', 'mine', true),
  )
  t.equal(state.rooms.investments?.unread, 2, 'own messages do not count')
  state = reduceChat(state, { type: 'open', view: 'investments' })
  t.equal(state.rooms.investments?.unread, 0)
  state = frames(state, message(8, 'bob', 'seen as it comes'))
  t.equal(state.rooms.investments?.unread, 0)
})

t.test('after a reconnection, what was missed is filled in once, in order', async (t) => {
  let state = frames(initialChatState, listed, ownJoin([{ id: 1, user: 'bob', body: 'before' }]))
  state = frames(state, message(2, 'bob', 'live'))
  t.same(roomsToRejoin(state), [{ name: 'investments', lastId: 2 }])
  state = reduceChat(state, { type: 'connection', status: 'reconnecting' })
  // The rejoin's status overlaps what is on screen; the history answer overlaps it again.
  state = frames(
    state,
    ownJoin([
      { id: 1, user: 'bob', body: 'before' },
      { id: 2, user: 'bob', body: 'live' },
      { id: 3, user: 'bob', body: 'missed' },
    ]),
  )
  state = frames(state, {
    type: 'notification',
    code: 'history',
    room_name: 'investments',
    messages: [4, 3].map((id) => ({
      id,
      user: 'bob',
      body: id === 4 ? 'missed too' : 'missed',
      stamp,
      you: false,
    })),
  })
  state = frames(state, message(4, 'bob', 'missed too'), message(5, 'bob', 'after'))
  const bodies = state.rooms.investments?.lines.flatMap((l) =>
    l.kind === 'message' ? [l.body] : [],
  )
  t.same(bodies, ['before', 'live', 'missed', 'missed too', 'after'], 'no duplicates, no gap')
})

t.test('errors and fatal answers go to the server logs and stop the chat', async (t) => {
  let state = frames(initialChatState, {
    type: 'error',
    code: 'room:not-joined',
    details: { name: 'family' },
  })
  t.match(state.logs.at(-1), { level: 'error', text: 'error: room:not-joined {"name":"family"}' })
  state = frames(state, { type: 'fatal', code: 'already-chatting' })
  t.equal(state.fatal, 'already-chatting')
  state = reduceChat(state, { type: 'connection', status: 'open' })
  t.equal(state.fatal, undefined, 'a successful reconnection clears it')
  state = frames(state, { type: 'notification', code: 'logged-out' })
  t.equal(state.fatal, 'logged-out')
})

t.test('a deleted room leaves the list, and the user is out of it', async (t) => {
  let state = frames(initialChatState, listed, ownJoin([]))
  state = reduceChat(state, { type: 'open', view: 'investments' })
  state = frames(state, {
    type: 'room:notification',
    code: 'parted',
    you: true,
    user: 'alice',
    room_name: 'investments',
    stamp,
  })
  t.equal(state.rooms.investments?.joined, false)
  t.same(roomsToRejoin(state), [])
  state = frames(state, {
    type: 'notification',
    code: 'list',
    list: [{ name: 'family', joined: false }],
  })
  t.same(state.names, ['family'])
  t.equal(state.active, SERVER_LOGS, 'the view falls back to the server logs')
})

t.test(
  'messages left unanswered are sent again after a reconnection, under their names',
  async (t) => {
    let state = frames(initialChatState, listed, ownJoin([{ id: 1, user: 'bob', body: 'before' }]))
    const sent = (client_id: string, body: string) =>
      reduceChat(state, { type: 'sent', message: { client_id, room_name: 'investments', body } })
    state = sent('c-1', 'echoed')
    state = sent('c-2', 'stored, echo lost')
    state = sent('c-3', 'never arrived')
    state = sent('c-4', 'refused')
    state = frames(
      state,
      { ...message(2, 'alice', 'echoed', true), client_id: 'c-1' } as ServerFrame,
      { type: 'error', code: 'room:empty-message', client_id: 'c-4' },
    )
    t.same(
      toResend(state),
      [
        { type: 'message', room_name: 'investments', body: 'stored, echo lost', client_id: 'c-2' },
        { type: 'message', room_name: 'investments', body: 'never arrived', client_id: 'c-3' },
      ],
      'what got its echo or an error is not sent again; the rest is, with the same client_id',
    )

    // The connection dropped; the rejoin's status holds c-2, stored as id 3 before the drop.
    state = reduceChat(state, { type: 'connection', status: 'reconnecting' })
    state = frames(
      state,
      ownJoin([
        { id: 2, user: 'alice', body: 'echoed' },
        { id: 3, user: 'alice', body: 'stored, echo lost' },
      ]),
    )
    t.same(
      toResend(state).map((frame) => frame.client_id),
      ['c-2', 'c-3'],
      'sent again after the rejoin',
    )
    // The server answers c-2 with the original's echo, and stores c-3 now.
    state = frames(
      state,
      { ...message(3, 'alice', 'stored, echo lost', true), client_id: 'c-2' } as ServerFrame,
      { ...message(4, 'alice', 'never arrived', true), client_id: 'c-3' } as ServerFrame,
    )
    t.same(toResend(state), [], 'every message answered')
    t.same(
      state.rooms.investments?.lines.flatMap((l) => (l.kind === 'message' ? [l.body] : [])),
      ['before', 'echoed', 'stored, echo lost', 'never arrived'],
      'no line twice',
    )
  },
)

t.test('unanswered messages of a room the user left are not sent again', async (t) => {
  let state = frames(initialChatState, listed, ownJoin([]))
  state = reduceChat(state, {
    type: 'sent',
    message: { client_id: 'c-1', room_name: 'investments', body: 'left behind' },
  })
  state = frames(state, {
    type: 'room:notification',
    code: 'parted',
    you: true,
    user: 'alice',
    room_name: 'investments',
    stamp,
  })
  t.same(toResend(state), [])
  t.same(state.unanswered, [], 'and forgotten')
})
