import type { ServerFrame } from '@finchat/protocol'
import type { ChatClient } from '@finchat/protocol/client'
import t, { type Test as Tap } from 'tap'
import {
  answersTo,
  answerTo,
  describe,
  inRoom,
  isHistory,
  isList,
  joinedBy,
  messageIn,
  type Sendable,
  startStory,
} from './helpers/client-story.js'

// Every client → server command of PROTOCOL.md, its answers and its errors (with their
// details), and the validation order, as a client sees them.

// These clients send far more than the default allowance (protection.test.ts covers it).
const story = await startStory(t, { limits: { rateLimit: { burst: 100_000, perSecond: 100_000 } } })
const { stack } = story

const notJoined = (name: string) => ({
  type: 'error',
  code: 'room:not-joined',
  details: { name },
})
const INVALID_FORMAT = { type: 'error', code: 'invalid-format' }
const EMPTY_MESSAGE = { type: 'error', code: 'room:empty-message' }
const EMPTY_CUSTOM = { type: 'error', code: 'room:empty-custom' }
const TOO_LONG = { type: 'error', code: 'room:message-too-long', details: { max: 512 } }
const unsupported = (type: unknown) => ({
  type: 'error',
  code: 'unsupported-command',
  details: { type },
})

/** Asserts the exact answer (t.same: no extra fields in details) and that it came alone. */
async function expectAnswer(t: Tap, client: ChatClient, frame: Sendable, expected: object) {
  const answer = await answerTo(t, client, frame)
  t.same(answer, expected, `${describe(frame)} → ${JSON.stringify(expected)}`)
}

/**
 * A member's view of a room: the next room notification must be the sentinel message `body`
 * from `from`, which proves that nothing was broadcast to the room before it.
 */
async function nothingBroadcastBefore(
  t: Tap,
  sender: ChatClient,
  observer: ChatClient,
  room: string,
  body: string,
) {
  await sender.say(room, body)
  const seen = await observer.next(inRoom(room))
  t.match(seen, { code: 'message', body }, 'the room saw nothing before the sentinel')
}

await stack.createRooms('general', 'quiet', 'custom', 'lengths')
const alice = await story.user('alice')
const bob = await story.user('bob')
await alice.join('general')
await bob.join('general')
await alice.next(joinedBy('bob', 'general'))

t.test('help lists every command', async (t) => {
  alice.send({ type: 'help' })
  const help = await alice.next()
  t.match(help, { type: 'notification', code: 'help', help: String })
  const text = (help as { help: string }).help
  for (const type of ['help', 'list', 'join', 'part', 'message', 'custom', 'history']) {
    t.match(text, new RegExp(`"type":\\s*"${type}"`), `mentions ${type}`)
  }
  for (const field of [
    'room_name',
    'body',
    'client_id',
    'command',
    'payload',
    'before',
    'after',
    'limit',
  ]) {
    t.match(text, `"${field}"`, `mentions the field ${field}`)
  }
})

t.test('list: every room in code-point order, with the joined flags', async (t) => {
  await stack.createRooms('b', 'C', 'a-1', 'Zeta')
  const lister = await story.user('lister')
  await lister.join('b')
  await lister.join('Zeta')
  lister.send({ type: 'list' })
  const { list } = await lister.next(isList)
  const names = list.map((room) => room.name)
  const sorted = [...names].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))
  t.same(names, sorted, 'the whole list is in code-point order')
  t.same(
    list.filter((room) => ['b', 'C', 'a-1', 'Zeta'].includes(room.name)),
    [
      { name: 'C', joined: false },
      { name: 'Zeta', joined: true },
      { name: 'a-1', joined: false },
      { name: 'b', joined: true },
    ],
  )
  t.ok(
    list.every((room) => room.joined === ['b', 'Zeta'].includes(room.name)),
    'joined only where joined',
  )
  t.ok(names.includes('general'), 'rooms the user never joined are listed too')

  lister.send({ type: 'part', room_name: 'b' })
  await lister.next((f) => f.type === 'room:notification' && f.code === 'parted')
  lister.send({ type: 'list' })
  const after = await lister.next(isList)
  t.same(
    after.list.filter((room) => room.joined).map((room) => room.name),
    ['Zeta'],
    'parting clears the flag',
  )
  await lister.close()
})

t.test('join errors', async (t) => {
  await expectAnswer(
    t,
    alice,
    { type: 'join', room_name: 'no-such-room' },
    {
      type: 'error',
      code: 'room:invalid',
      details: { name: 'no-such-room' },
    },
  )
  await expectAnswer(
    t,
    alice,
    { type: 'join', room_name: '' },
    {
      type: 'error',
      code: 'room:invalid',
      details: { name: '' },
    },
  )
  await expectAnswer(
    t,
    alice,
    { type: 'join', room_name: 'GENERAL' },
    {
      type: 'error',
      code: 'room:invalid',
      details: { name: 'GENERAL' },
    },
  )
  await expectAnswer(
    t,
    alice,
    { type: 'join', room_name: 'general' },
    {
      type: 'error',
      code: 'room:already-joined',
      details: { name: 'general' },
    },
  )
  await nothingBroadcastBefore(t, alice, bob, 'general', 'after the join errors')
})

t.test('part, message, custom and history outside a joined room: room:not-joined', async (t) => {
  for (const room of ['quiet', 'does-not-exist', 'General']) {
    for (const frame of [
      { type: 'part', room_name: room },
      { type: 'message', room_name: room, body: 'hello' },
      { type: 'message', room_name: room, command: 'stock', payload: 'aapl.us' },
      { type: 'custom', room_name: room, command: 'stock', payload: 'aapl.us' },
      { type: 'history', room_name: room },
      { type: 'history', room_name: room, before: 10, limit: 5 },
    ]) {
      await expectAnswer(t, alice, frame, notJoined(room))
    }
  }
})

t.test('join then part: the parted room is not joined any more', async (t) => {
  const joined = await alice.join('quiet')
  t.match(joined, { code: 'joined', you: true, room_name: 'quiet' })
  alice.send({ type: 'part', room_name: 'quiet' })
  t.match(await alice.next(inRoom('quiet')), { code: 'parted', you: true, user: 'alice' })
  await expectAnswer(t, alice, { type: 'part', room_name: 'quiet' }, notJoined('quiet'))
  await expectAnswer(
    t,
    alice,
    { type: 'message', room_name: 'quiet', body: 'x' },
    notJoined('quiet'),
  )
})

t.test('a message body is trimmed, and everyone sees the trimmed body', async (t) => {
  const echo = await alice.say('general', ' \t hello, bob \n ')
  t.match(echo, { body: 'hello, bob', you: true, user: 'alice' })
  t.match(await bob.next(messageIn('general')), { body: 'hello, bob', you: false, user: 'alice' })
  const inner = await alice.say('general', '  two  spaces inside  ')
  t.equal(inner.body, 'two  spaces inside', 'only the ends are trimmed')
  await bob.next(messageIn('general'))
})

t.test('a NUL character arrives as U+FFFD, and messages sent with it still go', async (t) => {
  const [echo, meanwhile] = await Promise.all([
    alice.say('general', 'nul \u0000 inside'),
    bob.say('general', 'sent meanwhile'),
  ])
  t.equal(echo.body, 'nul \uFFFD inside', 'PostgreSQL text cannot hold NUL')
  t.equal(meanwhile.body, 'sent meanwhile')
  t.match(await bob.next(messageIn('general')), { body: 'nul \uFFFD inside' })
  t.match(await alice.next(messageIn('general')), { body: 'sent meanwhile' })
})

t.test('an empty or blank body: room:empty-message, nothing broadcast', async (t) => {
  for (const body of ['', ' ', '   ', '\t\n', '\u00a0 \u2003', '\r\n\r\n']) {
    await expectAnswer(t, alice, { type: 'message', room_name: 'general', body }, EMPTY_MESSAGE)
  }
  await nothingBroadcastBefore(t, alice, bob, 'general', 'after the blanks')
})

t.test('length: 512 code points are fine, 513 are too long', async (t) => {
  const carol = await story.user('carol')
  const dave = await story.user('dave')
  await carol.join('lengths')
  await dave.join('lengths')
  await carol.next(joinedBy('dave', 'lengths'))

  const ascii512 = 'a'.repeat(512)
  t.equal((await carol.say('lengths', ascii512)).body, ascii512, '512 ASCII characters')
  t.equal((await dave.next(messageIn('lengths'))).body, ascii512)

  const emoji512 = '😀'.repeat(512) // 1024 UTF-16 units, 512 code points
  t.equal((await carol.say('lengths', emoji512)).body, emoji512, '512 emoji count as 512')
  t.equal((await dave.next(messageIn('lengths'))).body, emoji512)

  const mixed512 = `${'é'.repeat(200)}${'𝄞'.repeat(200)}${'z'.repeat(112)}`
  t.equal((await carol.say('lengths', mixed512)).body, mixed512, 'mixed, 512 code points')
  await dave.next(messageIn('lengths'))

  const padded = `   ${ascii512}   `
  t.equal((await carol.say('lengths', padded)).body, ascii512, 'trimmed before it is measured')
  await dave.next(messageIn('lengths'))

  for (const body of [
    'a'.repeat(513),
    '😀'.repeat(513),
    `${'😀'.repeat(512)}a`,
    'b'.repeat(5000),
  ]) {
    await expectAnswer(t, carol, { type: 'message', room_name: 'lengths', body }, TOO_LONG)
  }
  await nothingBroadcastBefore(t, carol, dave, 'lengths', 'after the long ones')

  carol.send({ type: 'history', room_name: 'lengths', limit: 10 })
  const history = await carol.next(isHistory)
  t.same(
    history.messages.map((m) => m.body),
    ['after the long ones', ascii512, mixed512, emoji512, ascii512],
    'nothing too long was stored, nothing was truncated',
  )
  await carol.close()
  await dave.close()
})

t.test('custom commands, in both forms', async (t) => {
  const erin = await story.user('erin')
  const frank = await story.user('frank')
  await erin.join('custom')
  await frank.join('custom')
  await erin.next(joinedBy('frank', 'custom'))

  const forms = [
    (command: string, payload: string) => ({
      type: 'message',
      room_name: 'custom',
      command,
      payload,
    }),
    (command: string, payload: string) => ({
      type: 'custom',
      room_name: 'custom',
      command,
      payload,
    }),
  ]
  for (const [index, form] of forms.entries()) {
    const name = index === 0 ? 'message form' : 'custom form'
    await t.test(name, async (t) => {
      for (const [command, payload, expected] of [
        ['stock', 'aapl.us', 'stock'],
        ['  stock \t', 'aapl.us', 'stock'],
        ['stock', '  ', 'stock'],
        ['stock', '  AAPL.us  ', 'stock'],
        ['Ünïcode', '😀 payload', 'Ünïcode'],
      ] as const) {
        erin.sendRaw(JSON.stringify(form(command, payload)))
        const expectedFrame = {
          type: 'room:notification',
          code: 'custom',
          user: 'erin',
          room_name: 'custom',
          command: expected,
          payload,
        }
        t.match(await frank.next(inRoom('custom')), { ...expectedFrame, you: false })
        t.match(await erin.next(inRoom('custom')), { ...expectedFrame, you: true })
      }
      for (const [command, payload] of [
        ['', 'aapl.us'],
        ['   ', 'aapl.us'],
        ['\t\n', 'aapl.us'],
        ['stock', ''],
        ['', ''],
      ]) {
        await expectAnswer(t, erin, form(command as string, payload as string), EMPTY_CUSTOM)
      }
      await expectAnswer(t, erin, form('c'.repeat(513), 'p'), TOO_LONG)
      await expectAnswer(t, erin, form('stock', 'p'.repeat(513)), TOO_LONG)
      await expectAnswer(t, erin, form('', 'p'.repeat(513)), EMPTY_CUSTOM)
      await nothingBroadcastBefore(t, erin, frank, 'custom', `after the bad ${name}`)
    })
  }

  await t.test('a body beside a command is the command form', async (t) => {
    erin.sendRaw(
      JSON.stringify({
        type: 'message',
        room_name: 'custom',
        body: 'ignored',
        command: 'stock',
        payload: 'x',
      }),
    )
    t.match(await frank.next(inRoom('custom')), { code: 'custom', command: 'stock', payload: 'x' })
    await erin.next(inRoom('custom'))
  })

  await t.test('custom commands are not stored', async (t) => {
    erin.send({ type: 'part', room_name: 'custom' })
    await erin.next(inRoom('custom'))
    const rejoined = await erin.join('custom')
    const bodies = rejoined.status?.messages.map((m) => m.body)
    t.same(bodies, ['after the bad custom form', 'after the bad message form'])
    erin.send({ type: 'history', room_name: 'custom' })
    t.same(
      (await erin.next(isHistory)).messages.map((m) => m.body),
      bodies,
      'nor in the history',
    )
  })
  await erin.close()
  await frank.close()
})

t.test('validation order', async (t) => {
  await t.test('wrong field types: invalid-format, even for a room not joined', async (t) => {
    const frames: Sendable[] = [
      { type: 'join', room_name: 5 },
      { type: 'join', room_name: null },
      { type: 'join', room_name: ['general'] },
      { type: 'join' },
      { type: 'part', room_name: 5 },
      { type: 'part' },
      { type: 'message', room_name: 'quiet', body: 5 },
      { type: 'message', room_name: 'nowhere', body: null },
      { type: 'message', room_name: 'nowhere', body: { text: 'hi' } },
      { type: 'message', room_name: 7, body: 'hello' },
      { type: 'message', room_name: 'nowhere' },
      { type: 'message', body: 'hello' },
      { type: 'message', room_name: 'nowhere', command: 'stock' },
      { type: 'message', room_name: 'nowhere', command: 5, payload: 'x' },
      { type: 'message', room_name: 'nowhere', command: 'stock', payload: 5 },
      { type: 'message', room_name: 'nowhere', command: null, payload: 'x', body: 'hi' },
      { type: 'custom', room_name: 'nowhere', command: 'stock' },
      { type: 'custom', room_name: 'nowhere', payload: 'x' },
      { type: 'custom', room_name: 'nowhere', command: [], payload: 'x' },
      { type: 'custom', room_name: 3, command: 'stock', payload: 'x' },
      { type: 'history', room_name: 'nowhere', limit: 0 },
      { type: 'history', room_name: 'nowhere', before: 'x' },
      { type: 'history' },
      // ...and also for the room that is joined
      { type: 'message', room_name: 'general', body: 5 },
      { type: 'message', room_name: 'general', body: true },
      { type: 'custom', room_name: 'general', command: 'stock', payload: null },
    ]
    for (const frame of frames) await expectAnswer(t, alice, frame, INVALID_FORMAT)
  })

  await t.test('membership before emptiness and length', async (t) => {
    await expectAnswer(
      t,
      alice,
      { type: 'message', room_name: 'quiet', body: '   ' },
      notJoined('quiet'),
    )
    await expectAnswer(
      t,
      alice,
      { type: 'message', room_name: 'quiet', body: 'x'.repeat(600) },
      notJoined('quiet'),
    )
    await expectAnswer(
      t,
      alice,
      { type: 'custom', room_name: 'quiet', command: '', payload: '' },
      notJoined('quiet'),
    )
    await expectAnswer(
      t,
      alice,
      { type: 'message', room_name: 'nowhere', command: ' ', payload: '' },
      notJoined('nowhere'),
    )
  })

  await t.test('emptiness before length', async (t) => {
    await expectAnswer(
      t,
      alice,
      { type: 'custom', room_name: 'general', command: ' ', payload: 'x'.repeat(600) },
      EMPTY_CUSTOM,
    )
    await expectAnswer(
      t,
      alice,
      { type: 'custom', room_name: 'general', command: 'c'.repeat(600), payload: '' },
      EMPTY_CUSTOM,
    )
  })

  await t.test(
    'an unknown, missing or non-string type: unsupported-command echoing it',
    async (t) => {
      const cases: [Sendable, unknown][] = [
        [{ type: 'shout' }, 'shout'],
        [{ type: 'HELP' }, 'HELP'],
        [{ type: 'Join', room_name: 'general' }, 'Join'],
        [{ type: '' }, ''],
        [{ type: ' help' }, ' help'],
        [{}, null],
        [{ room_name: 'general', body: 'no type' }, null],
        [{ type: null }, null],
        [{ type: 5 }, 5],
        [{ type: 0 }, 0],
        [{ type: true }, true],
        [{ type: ['help'] }, ['help']],
        [{ type: { name: 'help' } }, { name: 'help' }],
        [{ type: 'constructor' }, 'constructor'],
        [{ type: '__proto__' }, '__proto__'],
        [{ type: 'toString' }, 'toString'],
        [{ type: 'hasOwnProperty' }, 'hasOwnProperty'],
        [{ type: 'room:notification' }, 'room:notification'],
        [{ type: 'error' }, 'error'],
        ['{"type": 1.5e3}', 1500],
        ['{"__proto__": {"type": "help"}}', null],
      ]
      for (const [frame, type] of cases) await expectAnswer(t, alice, frame, unsupported(type))
    },
  )

  await t.test('an unknown type wins over bad fields', async (t) => {
    await expectAnswer(t, alice, { type: 'shout', room_name: 5 }, unsupported('shout'))
  })

  await t.test('not JSON, not an object, or binary: invalid-format', async (t) => {
    const frames: Sendable[] = [
      'hello',
      '',
      ' ',
      '{',
      '{"type": "help"',
      "{'type': 'help'}",
      '{"type": "help"} trailing',
      '[]',
      '[{"type": "help"}]',
      '"help"',
      '"{\\"type\\": \\"help\\"}"',
      '42',
      'null',
      'true',
      'NaN',
      Buffer.from('{"type":"help"}'),
      Buffer.from([0xff, 0x00, 0xfe]),
      Buffer.alloc(0),
    ]
    for (const frame of frames) await expectAnswer(t, alice, frame, INVALID_FORMAT)
  })

  await t.test('unknown extra fields are tolerated', async (t) => {
    const help = await answersTo(alice, { type: 'list', extra: 1, nested: { a: [1, 2] } })
    t.match(help, [{ type: 'notification', code: 'list' }])
    const echo = await answersTo(alice)
    t.same(echo, [])
    alice.sendRaw(
      JSON.stringify({
        type: 'message',
        room_name: 'general',
        body: 'extra',
        id: 999,
        you: false,
        user: 'mallory',
      }),
    )
    const mine = await alice.next(messageIn('general'))
    t.match(mine, { body: 'extra', user: 'alice', you: true }, 'fields a client sets are not taken')
    t.not(mine.id, 999)
    await bob.next(messageIn('general'))
  })

  await t.test('after all of this, the room saw nothing of it', async (t) => {
    await nothingBroadcastBefore(t, alice, bob, 'general', 'the end of validation')
  })
})

t.test('every answer of a session, in order, on one connection that stays open', async (t) => {
  const frames: [Sendable, (f: ServerFrame) => boolean][] = [
    ['not json', (f) => f.type === 'error' && f.code === 'invalid-format'],
    [{ type: 'list' }, isList],
    [{ type: 'join', room_name: 'nope' }, (f) => f.type === 'error' && f.code === 'room:invalid'],
    [Buffer.from('x'), (f) => f.type === 'error' && f.code === 'invalid-format'],
    [{ type: 'nope' }, (f) => f.type === 'error' && f.code === 'unsupported-command'],
    [
      { type: 'part', room_name: 'nope' },
      (f) => f.type === 'error' && f.code === 'room:not-joined',
    ],
  ]
  const answers = await answersTo(alice, ...frames.map(([frame]) => frame))
  t.equal(answers.length, frames.length, 'one answer per frame')
  for (const [index, [frame, matches]] of frames.entries()) {
    t.ok(
      answers[index] && matches(answers[index] as ServerFrame),
      `answer ${index + 1} is for ${describe(frame)}`,
    )
  }
})

t.test('conformance', async (t) => story.conformance(t))
