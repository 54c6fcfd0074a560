import type {
  CustomNotification,
  HistoryNotification,
  MessageNotification,
  PartedNotification,
  ServerFrame,
} from '@finchat/protocol'
import type { ChatClient } from '@finchat/protocol/client'
import { startStack } from '@finchat/testing'
import t from 'tap'

// Scale-out: users of one room spread over two chat instances that share the database and the
// bus (and, with REDIS_URL, presence in Redis with one connection set per instance).

const joinedBy =
  (user: string, room = 'friends') =>
  (f: ServerFrame) =>
    f.type === 'room:notification' && f.code === 'joined' && f.user === user && f.room_name === room
const partedBy =
  (user: string, room = 'friends') =>
  (f: ServerFrame): f is PartedNotification =>
    f.type === 'room:notification' && f.code === 'parted' && f.user === user && f.room_name === room
const messageFrom =
  (user: string, room = 'friends') =>
  (f: ServerFrame): f is MessageNotification =>
    f.type === 'room:notification' &&
    f.code === 'message' &&
    f.user === user &&
    f.room_name === room
const customFrom =
  (user: string) =>
  (f: ServerFrame): f is CustomNotification =>
    f.type === 'room:notification' && f.code === 'custom' && f.user === user
const isMotd = (f: ServerFrame) => f.type === 'notification' && f.code === 'api-motd'
const isFatal = (f: ServerFrame) => f.type === 'fatal'
const isHistory = (f: ServerFrame): f is HistoryNotification =>
  f.type === 'notification' && f.code === 'history'

/** The ids of the room messages a client receives from now on, in arrival order. */
function recordMessageIds(client: ChatClient, room = 'friends') {
  const ids: number[] = []
  client.onFrame((f) => {
    if (f.type === 'room:notification' && f.code === 'message' && f.room_name === room) {
      ids.push(f.id)
    }
  })
  return ids
}

/** The whole stored history of a room (oldest first), paged through `history before`. */
async function fullHistory(client: ChatClient, room: string) {
  const all: { id: number; user: string; body: string }[] = []
  let before: number | undefined
  for (;;) {
    client.send(
      before === undefined
        ? { type: 'history', room_name: room, limit: 50 }
        : { type: 'history', room_name: room, before, limit: 50 },
    )
    const page = await client.next(isHistory)
    all.unshift(...[...page.messages].reverse())
    if (page.messages.length < 50) return all
    before = page.messages.at(-1)?.id
  }
}

t.test('members on two instances see each other join, talk and part', async (t) => {
  const stack = await startStack(t, { chatInstances: 2 })
  await stack.createRooms('friends')
  const alice = await stack.user('alice', 0)
  const bob = await stack.user('bob', 1)

  const aliceJoined = await alice.join('friends')
  t.same(aliceJoined.status?.users, [{ name: 'alice', you: true }])
  const bobJoined = await bob.join('friends')
  t.same(
    bobJoined.status?.users,
    [
      { name: 'alice', you: false },
      { name: 'bob', you: true },
    ],
    'the joiner on instance 2 sees the member on instance 1',
  )
  t.match(await alice.next(joinedBy('bob')), { you: false, status: null })

  const fromAlice = await alice.say('friends', 'hello from instance 1')
  t.match(await bob.next(messageFrom('alice')), {
    you: false,
    body: 'hello from instance 1',
    id: fromAlice.id,
    stamp: fromAlice.stamp,
  })
  const fromBob = await bob.say('friends', 'hello from instance 2')
  t.match(await alice.next(messageFrom('bob')), {
    you: false,
    body: 'hello from instance 2',
    id: fromBob.id,
  })
  t.ok(fromBob.id > fromAlice.id, 'ids increase across instances')

  bob.send({ type: 'custom', room_name: 'friends', command: 'stock', payload: 'aapl.us' })
  t.match(await bob.next(customFrom('bob')), { you: true, command: 'stock', payload: 'aapl.us' })
  t.match(await alice.next(customFrom('bob')), {
    you: false,
    command: 'stock',
    payload: 'aapl.us',
    room_name: 'friends',
  })
  alice.send({ type: 'message', room_name: 'friends', command: ' chart ', payload: '  ' })
  t.match(await bob.next(customFrom('alice')), { you: false, command: 'chart', payload: '  ' })

  bob.send({ type: 'part', room_name: 'friends' })
  t.match(await bob.next(partedBy('bob')), { you: true })
  t.match(await alice.next(partedBy('bob')), { you: false })

  // The parting is cluster-wide too: a later joiner on instance 2 no longer sees bob.
  const carol = await stack.user('carol', 1)
  const carolJoined = await carol.join('friends')
  t.same(carolJoined.status?.users, [
    { name: 'alice', you: false },
    { name: 'carol', you: true },
  ])
  t.same(
    carolJoined.status?.messages.map((m) => m.id),
    [fromBob.id, fromAlice.id],
    'history written through both instances, newest first',
  )
})

t.test("a joiner's user list is cluster-wide", async (t) => {
  const stack = await startStack(t, { chatInstances: 2 })
  await stack.createRooms('friends')
  // Names chosen so that code-point order differs from a locale collation.
  const names = ['zoe', 'Bob', 'alice', 'Älva', '_x']
  const expected: string[] = []
  for (const [i, name] of names.entries()) {
    const client = await stack.user(name, i % 2)
    const joined = await client.join('friends')
    expected.push(name)
    expected.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    t.same(
      joined.status?.users,
      expected.map((n) => ({ name: n, you: n === name })),
      `${name} (instance ${(i % 2) + 1}) sees every member`,
    )
  }
})

t.test('concurrent senders on both instances: every member sees the same sequence', async (t) => {
  const stack = await startStack(t, { chatInstances: 2 })
  await stack.createRooms('friends')
  const users = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5']
  const clients: ChatClient[] = []
  for (const [i, name] of users.entries()) {
    const client = await stack.user(name, i % 2)
    await client.join('friends')
    clients.push(client)
  }
  // Every client has seen every join once the last joiner's join reached everyone.
  await Promise.all(clients.slice(0, -1).map((c) => c.next(joinedBy('u5'))))

  const perSender = 25
  const total = users.length * perSender
  const received = clients.map((client) => recordMessageIds(client))
  const done = clients.map(
    (client, i) =>
      new Promise<void>((resolve) => {
        const ids = received[i] as number[]
        if (ids.length >= total) resolve()
        client.onFrame(() => {
          if (ids.length >= total) resolve()
        })
      }),
  )
  // Everyone sends at once, without waiting for echoes.
  for (let n = 0; n < perSender; n++) {
    for (const [i, client] of clients.entries()) {
      client.send({ type: 'message', room_name: 'friends', body: `${users[i]} #${n}` })
    }
  }
  await Promise.race([
    Promise.all(done),
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error('not every message arrived within 20 s')), 20_000),
    ),
  ])

  const reference = received[0] as number[]
  t.equal(reference.length, total, 'every message arrived')
  t.equal(new Set(reference).size, total, 'no id twice')
  for (const [i, ids] of received.entries()) {
    t.same(ids, reference, `${users[i]} (instance ${(i % 2) + 1}) saw the same sequence`)
  }
  // PROTOCOL.md: ids are "increasing within the room" so that a client can page with `after`:
  // a client that saw id N and reconnects asks for `after: N`, so nothing below N may still be
  // on its way after N.
  const inversions = reference.filter((id, i) => i > 0 && id < (reference[i - 1] as number))
  t.same(inversions, [], 'ids arrive in increasing order')
  const errors = clients.flatMap((c) => c.frames.filter((f) => f.type === 'error'))
  t.same(errors, [], 'no sender was refused')

  // The history holds exactly what was broadcast.
  const history = await fullHistory(clients[1] as ChatClient, 'friends')
  t.same(
    history.map((m) => m.id).sort((a, b) => a - b),
    [...reference].sort((a, b) => a - b),
    'the history holds every broadcast message',
  )
  // Each sender's own messages keep the order it sent them in.
  for (const name of users) {
    const bodies = history.filter((m) => m.user === name).map((m) => m.body)
    t.same(
      bodies,
      Array.from({ length: perSender }, (_, n) => `${name} #${n}`),
      `${name}'s messages in order`,
    )
  }
})

t.test('one connection per user across instances', async (t) => {
  const stack = await startStack(t, { chatInstances: 2 })
  await stack.createRooms('friends')
  const token = await stack.token('alice')
  const first = await stack.connect(token, 0)
  await first.next(isMotd)
  await first.join('friends')
  const bob = await stack.user('bob', 1)
  await bob.join('friends')

  for (const [label, second] of [
    ['same token', token],
    ['another session', await stack.login('alice')],
  ] as const) {
    const duplicate = await stack.connect(second, 1)
    t.match(await duplicate.next(), { type: 'fatal', code: 'already-chatting' }, label)
    t.equal((await duplicate.closed).code, 1000, `${label}: closed with 1000`)
    t.notOk(duplicate.frames.some(isMotd), `${label}: the refused connection got no MOTD`)
  }

  // The first connection is untouched.
  const echo = await first.say('friends', 'still here')
  t.match(await bob.next(messageFrom('alice')), { id: echo.id, body: 'still here' })
  t.notOk(
    bob.frames.some(partedBy('alice')),
    'the refused attempts announced no parting of the first connection',
  )
  const carol = await stack.user('carol', 1)
  const carolJoined = await carol.join('friends')
  t.same(
    carolJoined.status?.users.map((u) => u.name),
    ['alice', 'bob', 'carol'],
  )

  // And the same holds the other way round.
  const bobAgain = await stack.connect(await stack.login('bob'), 0)
  t.match(await bobAgain.next(), { type: 'fatal', code: 'already-chatting' })
  await bob.say('friends', 'bob is fine')
})

t.test('logout closes the connection on whichever instance holds it', async (t) => {
  const stack = await startStack(t, { chatInstances: 2 })
  await stack.createRooms('friends')
  const tokens = { alice: await stack.token('alice'), bob: await stack.token('bob') }
  const alice = await stack.connect(tokens.alice, 0)
  const bob = await stack.connect(tokens.bob, 1)
  for (const client of [alice, bob]) await client.next(isMotd)
  const carol = await stack.user('carol', 0)
  for (const client of [alice, bob, carol]) await client.join('friends')

  for (const [name, client, others] of [
    ['bob', bob, [alice, carol]],
    ['alice', alice, [carol]],
  ] as const) {
    const response = await stack.logout(tokens[name])
    t.equal(response.statusCode, 204, `${name} logged out`)
    t.match(await client.next((f) => f.type === 'notification'), {
      type: 'notification',
      code: 'logged-out',
    })
    t.equal((await client.closed).code, 1000, `${name}'s connection closed with 1000`)
    for (const other of others) {
      t.match(await other.next(partedBy(name)), { you: false }, `${name}'s parting is announced`)
    }

    for (const index of [0, 1]) {
      const again = await stack.connect(tokens[name], index)
      t.match(
        await again.next(),
        { type: 'fatal', code: 'not-authenticated' },
        `the revoked token is refused by instance ${index + 1}`,
      )
      t.equal((await again.closed).code, 1000)
    }
  }

  // A new session of a logged-out user is welcome on either instance.
  const back = await stack.connect(await stack.login('bob'), 0)
  t.match(await back.next(), { type: 'notification', code: 'api-motd' })
  const joined = await back.join('friends')
  t.same(
    joined.status?.users.map((u) => u.name),
    ['bob', 'carol'],
  )
})

t.test('deleting a room parts its members on every instance', async (t) => {
  const stack = await startStack(t, { chatInstances: 2 })
  await stack.createRooms('friends', 'family')
  const admin = await stack.adminToken()
  const alice = await stack.user('alice', 0)
  const bob = await stack.user('bob', 1)
  const carol = await stack.user('carol', 1)
  for (const client of [alice, bob, carol]) await client.join('friends')
  await bob.join('family')

  const response = await stack.chats[0]?.app.inject({
    method: 'DELETE',
    url: '/admin/rooms/friends',
    headers: { authorization: `Token ${admin}` },
  })
  t.equal(response?.statusCode, 204)

  for (const [name, client] of [
    ['alice', alice],
    ['bob', bob],
    ['carol', carol],
  ] as const) {
    t.match(
      await client.next(partedBy(name)),
      { you: true, room_name: 'friends' },
      `${name} is parted from the deleted room`,
    )
    client.send({ type: 'list' })
    t.match(await client.next((f) => f.type === 'notification' && f.code === 'list'), {
      list: [{ name: 'family', joined: name === 'bob' }],
    })
    client.send({ type: 'message', room_name: 'friends', body: 'anyone?' })
    t.match(await client.next((f) => f.type === 'error'), {
      code: 'room:not-joined',
      details: { name: 'friends' },
    })
  }
  // Other rooms go on.
  const echo = await bob.say('family', 'still here')
  t.equal(echo.body, 'still here')
})

t.test('a graceful stop sends clients elsewhere and loses nothing', async (t) => {
  const stack = await startStack(t, { chatInstances: 2 })
  await stack.createRooms('friends')
  const alice = await stack.user('alice', 0)
  const tokens = { bob: await stack.token('bob'), carol: await stack.token('carol') }
  const movers = {
    bob: await stack.connect(tokens.bob, 1),
    carol: await stack.connect(tokens.carol, 1),
  }
  await alice.join('friends')
  for (const client of Object.values(movers)) {
    await client.next(isMotd)
    await client.join('friends')
  }
  await alice.next(joinedBy('carol'))

  // Echoes the senders saw, whenever they saw them.
  const echoed = new Set<number>()
  for (const client of [alice, ...Object.values(movers)]) {
    client.onFrame((f) => {
      if (f.type === 'room:notification' && f.code === 'message' && f.you) echoed.add(f.id)
    })
  }
  for (let n = 0; n < 5; n++) await movers.bob.say('friends', `settled ${n}`)

  // Reconnect as a client would: as soon as the 1012 arrives.
  const reconnected = Object.entries(movers).map(async ([name, client]) => {
    const closed = await client.closed
    const again = await stack.connect(tokens[name as keyof typeof tokens], 0)
    const first = await again.next()
    return { name, closed, again, first }
  })
  // Messages still in flight when the stop begins.
  for (let n = 0; n < 20; n++) {
    movers.bob.send({ type: 'message', room_name: 'friends', body: `in flight ${n}` })
    movers.carol.send({ type: 'message', room_name: 'friends', body: `carol in flight ${n}` })
  }
  await stack.chats[1]?.stop()

  for (const { name, closed, again, first } of await Promise.all(reconnected)) {
    t.equal(closed.code, 1012, `${name} was told to reconnect`)
    t.match(first, { type: 'notification', code: 'api-motd' }, `${name} reconnected at once`)
    t.match(await alice.next(partedBy(name)), { you: false }, `${name}'s parting was announced`)
    t.notOk(again.frames.some(isFatal), `${name} was not refused`)
  }
  const bob = (await reconnected[0])?.again as ChatClient
  const carol = (await reconnected[1])?.again as ChatClient
  const bobJoined = await bob.join('friends')
  t.same(
    bobJoined.status?.users.map((u) => u.name),
    ['alice', 'bob'],
  )
  const carolJoined = await carol.join('friends')
  t.same(
    carolJoined.status?.users.map((u) => u.name),
    ['alice', 'bob', 'carol'],
    'every user once, no ghost of the stopped instance',
  )

  const history = new Set((await fullHistory(alice, 'friends')).map((m) => m.id))
  t.ok(echoed.size >= 5, `${echoed.size} messages echoed`)
  const missing = [...echoed].filter((id) => !history.has(id))
  t.same(missing, [], 'every echoed message is in the history')
  // What alice saw live was stored too.
  const seenByAlice = alice.frames.filter(
    (f): f is MessageNotification => f.type === 'room:notification' && f.code === 'message',
  )
  t.same(
    seenByAlice.filter((m) => !history.has(m.id)),
    [],
    'every broadcast message is in the history',
  )
})
