import t from 'tap'
import {
  answersTo,
  inRoom,
  isList,
  joinedBy,
  messageIn,
  startStory,
} from './helpers/client-story.js'

// The room administration routes (docs/protocol.md §6, an extension), through the chat
// instance's HTTP interface, and what members of a deleted room see on their websockets.

const story = await startStory(t)
const { stack } = story
const app = (stack.chats[0] as (typeof stack.chats)[number]).app
const admin = await stack.adminToken()
const user = await stack.token('plain-user')

type Method = 'GET' | 'POST' | 'DELETE'
const call = (
  method: Method,
  url: string,
  options: { token?: string; authorization?: string; payload?: unknown } = {},
) =>
  app.inject({
    method,
    url,
    headers: {
      ...(options.token ? { authorization: `Token ${options.token}` } : {}),
      ...(options.authorization ? { authorization: options.authorization } : {}),
    },
    ...(options.payload === undefined ? {} : { payload: options.payload as object }),
  })
const create = (name: unknown, token = admin) =>
  call('POST', '/admin/rooms', { token, payload: { name } })
const roomNames = async () =>
  (
    (await call('GET', '/admin/rooms', { token: admin })).json() as { rooms: { name: string }[] }
  ).rooms.map((room) => room.name)

const ROUTES: [Method, string, unknown?][] = [
  ['GET', '/admin/rooms'],
  ['POST', '/admin/rooms', { name: 'sneaky' }],
  ['DELETE', '/admin/rooms/sneaky'],
]

t.test('without a valid token: 401', async (t) => {
  const revoked = await stack.adminToken('old-root')
  await stack.logout(revoked)
  for (const [method, url, payload] of ROUTES) {
    const cases: [string, Parameters<typeof call>[2], string][] = [
      ['no header', {}, 'Authentication credentials were not provided.'],
      [
        'an unknown scheme',
        { authorization: `Basic ${admin}` },
        'Authentication credentials were not provided.',
      ],
      ['Token alone', { authorization: 'Token' }, 'Invalid token header. No credentials provided.'],
      [
        'Token a b',
        { authorization: 'Token a b' },
        'Invalid token header. Token string should not contain spaces.',
      ],
      ['a garbage token', { token: 'garbage-garbage-garbage-garbage' }, 'Invalid token.'],
      ['a revoked admin token', { token: revoked }, 'Invalid token.'],
    ]
    for (const [name, options, detail] of cases) {
      const response = await call(method, url, { ...options, payload })
      t.equal(response.statusCode, 401, `${method} ${url}, ${name}: 401`)
      t.same(response.json(), { detail }, `${method} ${url}, ${name}: ${detail}`)
    }
  }
  t.notOk((await roomNames()).includes('sneaky'), 'nothing was created')
})

t.test('a user who is not an administrator: 403', async (t) => {
  await stack.createRooms('sneaky')
  for (const [method, url, payload] of ROUTES) {
    const response = await call(method, url, { token: user, payload })
    t.equal(response.statusCode, 403, `${method} ${url}`)
    t.same(response.json(), { detail: 'You do not have permission to perform this action.' })
  }
  const bearer = await call('GET', '/admin/rooms', { authorization: `Bearer ${user}` })
  t.equal(bearer.statusCode, 403, 'with Bearer too')
  t.ok((await roomNames()).includes('sneaky'), 'the room was not deleted')
  t.equal((await call('DELETE', '/admin/rooms/sneaky', { token: admin })).statusCode, 204)
})

t.test('create and list rooms', async (t) => {
  const response = await create('investments')
  t.equal(response.statusCode, 201)
  t.same(response.json(), { name: 'investments' })
  t.match(response.headers['content-type'], /^application\/json/)

  for (const name of ['stock-talk', 'a_1-b2-C3', 'Zed', 'x'.repeat(50), 'B']) {
    const created = await create(name)
    t.equal(
      created.statusCode,
      201,
      `${name.length > 20 ? `${name.slice(0, 10)}... (${name.length})` : name} is a valid name`,
    )
    t.same(created.json(), { name })
  }
  const bearer = await call('GET', '/admin/rooms', { authorization: `Bearer ${admin}` })
  t.equal(bearer.statusCode, 200, 'Bearer works like Token')
  const listed = await call('GET', '/admin/rooms', { token: admin })
  t.equal(listed.statusCode, 200)
  const body = listed.json() as { rooms: { name: string }[] }
  t.ok(
    body.rooms.every((room) => Object.keys(room).join() === 'name'),
    'entries are {name}',
  )
  const names = body.rooms.map((room) => room.name)
  t.same(
    names,
    [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    'in code-point order',
  )
  for (const name of ['investments', 'stock-talk', 'B', 'Zed'])
    t.ok(names.includes(name), `${name} listed`)

  // A created room is a room for chat clients at once.
  const client = await story.user('newcomer')
  client.send({ type: 'list' })
  const list = await client.next(isList)
  t.ok(
    list.list.some((room) => room.name === 'investments' && !room.joined),
    'in the chat list',
  )
  t.match(await client.join('investments'), { you: true, room_name: 'investments' })
  await client.close()
})

t.test('bad names: 400 with field errors on name', async (t) => {
  const cases: [unknown, string | RegExp][] = [
    ['1abc', /letter/],
    ['a--b', /hyphen/],
    ['a-', /hyphen/],
    ['-a', /letter/],
    ['_a', /letter/],
    ['with space', /letter|hyphen|underscore/],
    ['dot.ted', /./],
    ['slash/ed', /./],
    ['x'.repeat(51), 'Ensure this field has no more than 50 characters.'],
    ['', 'This field may not be blank.'],
    [5, 'Not a valid string.'],
    [null, 'Not a valid string.'],
    [['a'], 'Not a valid string.'],
  ]
  for (const [name, message] of cases) {
    const response = await create(name)
    t.equal(response.statusCode, 400, `${JSON.stringify(name)?.slice(0, 20)}: 400`)
    const body = response.json() as Record<string, unknown>
    t.same(Object.keys(body), ['name'], 'only the name field is blamed')
    t.ok(
      Array.isArray(body.name) &&
        body.name.length > 0 &&
        body.name.every((m) => typeof m === 'string'),
      'a non-empty list of messages',
    )
    if (typeof message === 'string') t.same(body.name, [message])
    else t.match((body.name as string[])[0], message)
  }

  const missing = await call('POST', '/admin/rooms', { token: admin, payload: {} })
  t.equal(missing.statusCode, 400)
  t.same(missing.json(), { name: ['This field is required.'] })

  const malformed = await app.inject({
    method: 'POST',
    url: '/admin/rooms',
    headers: { authorization: `Token ${admin}`, 'content-type': 'application/json' },
    payload: '{"name": ',
  })
  t.equal(malformed.statusCode, 400)
  t.same(malformed.json(), { non_field_errors: ['Malformed JSON body.'] })

  const names = await roomNames()
  t.notOk(
    names.some((name) => ['1abc', 'a--b', 'a-', '-a', 'with space', ''].includes(name)),
    'none was created',
  )
})

t.test('duplicates, in any letter case: 400', async (t) => {
  t.equal((await create('family')).statusCode, 201)
  for (const name of ['family', 'Family', 'FAMILY', 'fAmIlY']) {
    const response = await create(name)
    t.equal(response.statusCode, 400, name)
    t.same(response.json(), { name: ['A room with that name already exists.'] })
  }
  t.same(
    (await roomNames()).filter((name) => name.toLowerCase() === 'family'),
    ['family'],
    'still one room',
  )
})

// docs/protocol.md §1: request bodies are JSON or form-encoded, on every route of port 8000.
t.test('a form-encoded body is accepted like JSON', async (t) => {
  const response = await app.inject({
    method: 'POST',
    url: '/admin/rooms',
    headers: {
      authorization: `Token ${admin}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    payload: 'name=formed',
  })
  t.equal(response.statusCode, 201)
  t.same(response.json(), { name: 'formed' })
})

t.test('delete', async (t) => {
  const missing = await call('DELETE', '/admin/rooms/no-such-room', { token: admin })
  t.equal(missing.statusCode, 404)
  t.same(missing.json(), { detail: 'No such room.' })

  t.equal((await create('short-lived')).statusCode, 201)
  const deleted = await call('DELETE', '/admin/rooms/short-lived', { token: admin })
  t.equal(deleted.statusCode, 204)
  t.equal(deleted.body, '', 'an empty body')
  t.notOk((await roomNames()).includes('short-lived'))
  const again = await call('DELETE', '/admin/rooms/short-lived', { token: admin })
  t.equal(again.statusCode, 404, 'deleting twice: 404')

  t.equal((await create('CamelRoom')).statusCode, 201)
  t.equal(
    (await call('DELETE', '/admin/rooms/camelroom', { token: admin })).statusCode,
    204,
    'the name is matched regardless of case',
  )
  t.notOk((await roomNames()).includes('CamelRoom'))
})

t.test('deleting a room parts its members and removes it with its history', async (t) => {
  await stack.createRooms('doomed', 'survivor')
  const alice = await story.user('alice')
  const bob = await story.user('bob')
  const carol = await story.user('carol') // in the other room only
  await alice.join('doomed')
  await alice.join('survivor')
  await bob.join('doomed')
  await carol.join('survivor')
  await alice.next(joinedBy('bob', 'doomed'))
  await alice.next(joinedBy('carol', 'survivor'))
  await alice.say('doomed', 'soon gone')
  await bob.next(messageIn('doomed'))

  t.equal((await call('DELETE', '/admin/rooms/doomed', { token: admin })).statusCode, 204)
  for (const [client, name] of [
    [alice, 'alice'],
    [bob, 'bob'],
  ] as const) {
    const parted = await client.next(inRoom('doomed'))
    t.same(
      parted,
      {
        type: 'room:notification',
        code: 'parted',
        you: true,
        user: name,
        room_name: 'doomed',
        stamp: (parted as { stamp: string }).stamp,
      },
      `${name} is parted, as if they had left`,
    )
    client.send({ type: 'list' })
    t.notOk(
      (await client.next(isList)).list.some((room) => room.name === 'doomed'),
      `${name}: gone from list`,
    )
    t.same(await answersTo(client, { type: 'message', room_name: 'doomed', body: 'hello?' }), [
      { type: 'error', code: 'room:not-joined', details: { name: 'doomed' } },
    ])
    t.same(await answersTo(client, { type: 'join', room_name: 'doomed' }), [
      { type: 'error', code: 'room:invalid', details: { name: 'doomed' } },
    ])
  }

  // The other room and its members are untouched: carol's next frame is alice's message.
  await alice.say('survivor', 'still here')
  t.match(await carol.next(inRoom('survivor')), {
    code: 'message',
    user: 'alice',
    body: 'still here',
  })
  t.notOk(
    carol.frames.some((f) => f.type === 'room:notification' && f.room_name === 'doomed'),
    'carol heard nothing of it',
  )

  // A room created again under the name starts empty.
  t.equal((await create('Doomed')).statusCode, 201)
  const fresh = await bob.join('Doomed')
  t.same(
    fresh.status,
    { users: [{ name: 'bob', you: true }], messages: [] },
    'no members, no history',
  )
})

t.test('conformance', async (t) => story.conformance(t))
