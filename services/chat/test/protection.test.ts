import { setTimeout as delay } from 'node:timers/promises'
import type { MessageNotification, ServerFrame } from '@finchat/protocol'
import type { ChatClient } from '@finchat/protocol/client'
import t, { type Test } from 'tap'
import {
  answersTo,
  inRoom,
  isList,
  joinedBy,
  messageIn,
  seededRandom,
  startStory,
} from './helpers/client-story.js'

// Hostile and greedy clients: oversized frames, floods, thousands of malformed frames and
// prototype-pollution keys. The server answers each as the protocol says, stays up, and the
// other members of a room see nothing of it.

const mine = (room: string) => (f: ServerFrame) =>
  f.type === 'room:notification' && f.code === 'message' && f.room_name === room && f.you

t.test('default limits, but frames of at most 4096 bytes', async (t) => {
  const story = await startStory(t, { limits: { maxFrameBytes: 4096 } })
  const { stack } = story
  await stack.createRooms('big')
  const observer = await story.user('observer')
  await observer.join('big')

  /** A message frame of exactly `bytes` bytes (UTF-8), padded with an unknown field. */
  const frameOf = (bytes: number, body = 'fits', padChar = 'x') => {
    const bare = JSON.stringify({ type: 'message', room_name: 'big', body, pad: '' })
    const room = bytes - Buffer.byteLength(bare)
    const count = Math.floor(room / Buffer.byteLength(padChar))
    const pad = 'x'.repeat(room - count * Buffer.byteLength(padChar)) + padChar.repeat(count)
    const text = JSON.stringify({ type: 'message', room_name: 'big', body, pad })
    t.equal(Buffer.byteLength(text), bytes, `a frame of ${bytes} bytes`)
    return text
  }

  const cases: [string, (client: ChatClient) => void][] = [
    ['4097 bytes of text', (c) => c.sendRaw(frameOf(4097, 'too big'))],
    [
      '4098 bytes, 2 bytes per character (2049 characters)',
      (c) => c.sendRaw(frameOf(4098, 'too big', 'é')),
    ],
    ['64 KiB of text', (c) => c.sendRaw(frameOf(65536, 'too big'))],
    ['a binary frame of 5000 bytes', (c) => c.sendRaw(Buffer.alloc(5000, 0x7b), true)],
  ]
  for (const [index, [name, send]] of cases.entries()) {
    await t.test(name, async (t) => {
      const user = `big${index}`
      const sender = await story.user(user)
      await sender.join('big')
      await observer.next(joinedBy(user, 'big'))
      send(sender)
      t.equal((await sender.closed).code, 1009, 'closed with 1009 (message too big)')
      t.match(
        await observer.next(inRoom('big')),
        { code: 'parted', user },
        'the room saw nothing from it but its parting',
      )
    })
  }

  await t.test('exactly the limit is accepted', async (t) => {
    const sender = await story.user('at-limit')
    await sender.join('big')
    await observer.next(joinedBy('at-limit', 'big'))
    sender.sendRaw(frameOf(4096, 'at the limit'))
    t.match(await sender.next(mine('big')), { body: 'at the limit' })
    t.match(await observer.next(inRoom('big')), { code: 'message', body: 'at the limit' })
    sender.sendRaw(frameOf(4096, 'multi-byte', '€')) // 3 bytes per character
    t.match(await sender.next(mine('big')), { body: 'multi-byte' })
    await observer.next(inRoom('big'))
  })

  await t.test('the user comes back after being cut off; the server is up', async (t) => {
    const token = await stack.login('big0')
    const again = await story.connect(token)
    t.match(await again.next(), { type: 'notification', code: 'api-motd' })
    await again.join('big')
    await again.say('big', 'back')
    t.match(await observer.next(messageIn('big')), { user: 'big0', body: 'back' })
  })
  await t.test('the default rate limit lets a burst of 100 messages through', async (t) => {
    await stack.createRooms('burst')
    const listener = await story.user('listener')
    await listener.join('burst')
    const talker = await story.user('talker')
    await talker.join('burst')
    await listener.next(joinedBy('talker', 'burst'))
    // The join took one frame of the 100; at 20 per second it is back within 50 ms.
    await delay(100)
    const bodies = Array.from({ length: 100 }, (_, i) => `b${i + 1}`)
    for (const body of bodies) talker.send({ type: 'message', room_name: 'burst', body })
    const echoes: string[] = []
    while (echoes.length < 100)
      echoes.push(((await talker.next(mine('burst'))) as MessageNotification).body)
    t.same(echoes, bodies, 'all 100 echoed, in order')
    t.notOk(
      talker.frames.some((f) => f.type === 'error'),
      'no error at all',
    )
    const seen: string[] = []
    while (seen.length < 100) seen.push((await listener.next(messageIn('burst', 'talker'))).body)
    t.same(seen, bodies, 'the room got all 100, in order')
  })
  await t.test('conformance', async (t) => story.conformance(t))
})

t.test('rate limit (burst 5, 1 per second)', async (t) => {
  const story = await startStory(t, { limits: { rateLimit: { burst: 5, perSecond: 1 } } })
  const { stack } = story
  await stack.createRooms('flood')
  const observer = await story.user('calm')
  await observer.join('flood')

  await t.test('a burst over the allowance: rate-limited, nothing of it broadcast', async (t) => {
    const flooder = await story.user('flooder')
    await flooder.join('flood') // 1 of the 5
    await observer.next(joinedBy('flooder', 'flood'))
    const sent = Array.from({ length: 8 }, (_, i) => `f${i + 1}`)
    for (const body of sent) flooder.send({ type: 'message', room_name: 'flood', body })

    const echoes: string[] = []
    const limited: ServerFrame[] = []
    while (echoes.length + limited.length < sent.length) {
      const frame = await flooder.next((f) => mine('flood')(f) || f.type === 'error')
      if (frame.type === 'error') limited.push(frame)
      else echoes.push((frame as MessageNotification).body)
    }
    t.ok(
      echoes.length >= 4 && echoes.length <= 5,
      `4 (or 5 after a refill) went through: ${echoes}`,
    )
    t.same(echoes, sent.slice(0, echoes.length), 'the first ones, in order')
    t.ok(limited.length >= 3, `the rest were refused (${limited.length})`)
    for (const frame of limited) {
      t.match(frame, { type: 'error', code: 'rate-limited', details: { retry_after_ms: Number } })
      const wait = (frame as { details: { retry_after_ms: number } }).details.retry_after_ms
      t.ok(
        Number.isInteger(wait) && wait > 0 && wait <= 1000,
        `retry_after_ms ${wait} is in (0, 1000]`,
      )
    }

    // The observer sees the messages that went through, then its own sentinel: nothing else.
    observer.send({ type: 'message', room_name: 'flood', body: 'sentinel' })
    const seen: string[] = []
    for (;;) {
      const frame = await observer.next(inRoom('flood'))
      if (frame.type === 'room:notification' && frame.code === 'message') {
        if (frame.body === 'sentinel') break
        seen.push(frame.body)
      } else t.fail(`unexpected ${JSON.stringify(frame)}`)
    }
    t.same(seen, echoes, 'only the messages that went through were broadcast')

    // Honouring retry_after_ms, the flooder may talk again; it was never disconnected.
    const last = limited.at(-1) as { details: { retry_after_ms: number } }
    await delay(last.details.retry_after_ms)
    t.match(await flooder.say('flood', 'after waiting'), { body: 'after waiting' })
    t.match(await observer.next(messageIn('flood')), { body: 'after waiting' })
  })

  await t.test(
    'every frame draws from the allowance, garbage included; answers keep order',
    async (t) => {
      const noisy = await story.user('noisy')
      for (let i = 0; i < 9; i++) noisy.sendRaw('not json')
      const answers: ServerFrame[] = []
      for (let i = 0; i < 9; i++) answers.push(await noisy.next())
      const codes = answers.map((f) => (f.type === 'error' ? f.code : f.type))
      const allowed = codes.filter((code) => code === 'invalid-format').length
      t.ok(allowed >= 5 && allowed <= 6, `the allowance answered ${allowed} frames`)
      t.same(
        codes,
        [...Array(allowed).fill('invalid-format'), ...Array(9 - allowed).fill('rate-limited')],
        'the allowed ones first, then rate-limited, one answer per frame',
      )
      t.equal(noisy.socket.readyState, noisy.socket.OPEN, 'still connected')
    },
  )
  await t.test('conformance', async (t) => story.conformance(t))
})

t.test('hostile frames', async (t) => {
  const story = await startStory(t, {
    limits: { maxFrameBytes: 4096, rateLimit: { burst: 100_000, perSecond: 100_000 } },
  })
  const { stack } = story
  await stack.createRooms('fuzz', 'constructor', 'toString', 'hasOwnProperty', 'proto')

  await t.test('thousands of malformed frames, each answered as the protocol says', async (t) => {
    const observer = await story.user('witness')
    await observer.join('fuzz')
    const fuzzer = await story.user('fuzzer')
    await fuzzer.join('fuzz')
    await observer.next(joinedBy('fuzzer', 'fuzz'))

    const seed = Number(process.env.FUZZ_SEED ?? 20261127)
    t.comment(`FUZZ_SEED=${seed}`)
    const cases = generateCases(seed, 3000)
    const kinds = new Map<string, number>()
    for (const c of cases) kinds.set(c.expected.code, (kinds.get(c.expected.code) ?? 0) + 1)
    t.comment(`expected answers: ${JSON.stringify(Object.fromEntries(kinds))}`)
    t.ok(kinds.size >= 9, 'the cases cover most answers')

    for (const c of cases) fuzzer.sendRaw(c.binary ? c.data : c.data.toString(), c.binary)
    fuzzer.send({ type: 'help' })
    const answers: ServerFrame[] = []
    for (let i = 0; i <= cases.length; i++) {
      answers.push(await fuzzer.next((f) => f.type !== 'room:notification'))
    }
    t.match(
      answers.pop(),
      { type: 'notification', code: 'help' },
      'one answer per frame, then help',
    )
    const mismatches: unknown[] = []
    for (const [index, c] of cases.entries()) {
      const answer = answers[index]
      const ok = c.expected.exact
        ? JSON.stringify(normalize(answer)) === JSON.stringify(normalize(c.expected.frame))
        : answer?.type === c.expected.frame.type &&
          (answer as { code?: string }).code === c.expected.code
      if (!ok && mismatches.length < 10) {
        mismatches.push({
          index,
          sent: c.binary ? `binary ${c.data.toString('hex').slice(0, 40)}` : c.data.toString(),
          expected: c.expected.frame,
          answer,
        })
      }
    }
    t.same(mismatches, [], 'every answer is the expected one, in order')

    await fuzzer.say('fuzz', 'sentinel')
    t.match(
      await observer.next(inRoom('fuzz')),
      { code: 'message', user: 'fuzzer', body: 'sentinel' },
      'the other member saw nothing of the fuzzing',
    )
    const newcomer = await story.user('newcomer')
    await newcomer.join('fuzz')
    await newcomer.say('fuzz', 'the server is up')
    t.match(await observer.next(messageIn('fuzz', 'newcomer')), { body: 'the server is up' })
  })

  await t.test('prototype-pollution keys are harmless', async (t) => {
    const mallory = await story.user('mallory')
    const victim = await story.user('victim')
    await victim.join('proto')
    const raw = [
      '{"type":"join","room_name":"x","__proto__":{"polluted":1}}',
      '{"type":"join","room_name":"x","constructor":{"prototype":{"polluted":1}}}',
      '{"__proto__":{"type":"help"}}',
      '{"type":"list","__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}',
      '{"type":"join","room_name":"__proto__"}',
      '{"type":"join","room_name":"prototype"}',
      '{"type":"message","room_name":"__proto__","body":"x"}',
      '{"type":"part","room_name":"constructor"}',
      '{"type":"history","room_name":"toString"}',
      '{"type":"custom","room_name":"hasOwnProperty","command":"c","payload":"p"}',
      '{"type":"constructor"}',
      '{"type":"__proto__","__proto__":{"type":"help"}}',
    ]
    const answers = await answersTo(mallory, ...raw)
    t.same(answers, [
      { type: 'error', code: 'room:invalid', details: { name: 'x' } },
      { type: 'error', code: 'room:invalid', details: { name: 'x' } },
      { type: 'error', code: 'unsupported-command', details: { type: null } },
      answers[3],
      { type: 'error', code: 'room:invalid', details: { name: '__proto__' } },
      { type: 'error', code: 'room:invalid', details: { name: 'prototype' } },
      { type: 'error', code: 'room:not-joined', details: { name: '__proto__' } },
      { type: 'error', code: 'room:not-joined', details: { name: 'constructor' } },
      { type: 'error', code: 'room:not-joined', details: { name: 'toString' } },
      { type: 'error', code: 'room:not-joined', details: { name: 'hasOwnProperty' } },
      { type: 'error', code: 'unsupported-command', details: { type: 'constructor' } },
      { type: 'error', code: 'unsupported-command', details: { type: '__proto__' } },
    ])
    t.match(answers[3], { type: 'notification', code: 'list' })

    // A join carrying pollution joins normally, and a message with a polluted twin is itself.
    mallory.sendRaw(
      '{"type":"join","room_name":"proto","__proto__":{"room_name":"fuzz","polluted":1}}',
    )
    t.match(await mallory.next(inRoom('proto')), { code: 'joined', you: true, room_name: 'proto' })
    t.match(await victim.next(inRoom('proto')), { code: 'joined', user: 'mallory', status: null })
    mallory.sendRaw(
      '{"type":"message","room_name":"proto","body":"plain","__proto__":{"body":"","you":true,"user":"victim"}}',
    )
    const plain = await victim.next(inRoom('proto'))
    t.match(plain, {
      code: 'message',
      you: false,
      user: 'mallory',
      room_name: 'proto',
      body: 'plain',
    })
    t.same(
      Object.keys(plain).sort(),
      ['body', 'code', 'id', 'room_name', 'stamp', 'type', 'user', 'you'],
      'the message is exactly what a plain one is',
    )
    await mallory.next(mine('proto'))

    // Rooms named like Object.prototype members behave like any room.
    for (const room of ['constructor', 'toString', 'hasOwnProperty']) {
      const joined = await mallory.join(room)
      t.same(
        joined.status,
        { users: [{ name: 'mallory', you: true }], messages: [] },
        `${room}: a fresh room`,
      )
      t.match(await mallory.say(room, `in ${room}`), { body: `in ${room}` })
    }
    const list = await answersTo(mallory, { type: 'list' })
    const listed = (list[0] as ServerFrame & { list: { name: string; joined: boolean }[] }).list
    t.ok(isList(list[0] as ServerFrame))
    t.same(
      listed.filter((room) => room.joined).map((room) => room.name),
      ['constructor', 'hasOwnProperty', 'proto', 'toString'],
      'joined flags only where joined',
    )
    t.ok(
      listed.every((room) => Object.keys(room).sort().join() === 'joined,name'),
      'plain entries',
    )

    const probe = {} as Record<string, unknown>
    t.equal(probe.polluted, undefined, 'Object.prototype was not polluted')
    t.notOk('polluted' in Object.prototype)
    t.equal(typeof probe.constructor, 'function')

    // Everyone else is unaffected.
    const bystander = await story.user('bystander')
    const joined = await bystander.join('proto')
    t.same(
      joined.status?.users.map((u) => u.name),
      ['bystander', 'mallory', 'victim'],
    )
    t.match(await bystander.say('proto', 'all fine'), { body: 'all fine' })
  })
  await t.test('conformance', async (t: Test) => story.conformance(t))
})

// ---- the fuzz generator and its oracle, written from PROTOCOL.md ----

interface Case {
  data: Buffer
  binary: boolean
  expected: { code: string; frame: Record<string, unknown>; exact: boolean }
}

const JOINED = 'fuzz'
const KNOWN = ['help', 'list', 'join', 'part', 'message', 'custom', 'history']
const error = (code: string, details?: Record<string, unknown>) =>
  details ? { type: 'error', code, details } : { type: 'error', code }
const codePoints = (text: string) => [...text].length
const isMessageId = (v: unknown) =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER

function normalize(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value))
}

/**
 * What the protocol answers to one frame of a client that has joined only `fuzz`; null for a
 * frame that would have an effect (join, part, a message that is stored), which fuzzing avoids.
 */
function oracle(text: string | null): Case['expected'] | null {
  const exact = (frame: Record<string, unknown>) => ({
    code: frame.code as string,
    frame,
    exact: true,
  })
  if (text === null) return exact(error('invalid-format'))
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return exact(error('invalid-format'))
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return exact(error('invalid-format'))
  const f = value as Record<string, unknown>
  const type = Object.hasOwn(f, 'type') ? f.type : null
  if (typeof type !== 'string' || !KNOWN.includes(type)) {
    return exact(error('unsupported-command', { type: normalize(type) }))
  }
  const has = (key: string) => Object.hasOwn(f, key)
  const str = (key: string) => has(key) && typeof f[key] === 'string'
  const invalid = exact(error('invalid-format'))
  const room = f.room_name as string
  const notJoined = exact(error('room:not-joined', { name: room }))
  switch (type) {
    case 'help':
      return { code: 'help', frame: { type: 'notification' }, exact: false }
    case 'list':
      return { code: 'list', frame: { type: 'notification' }, exact: false }
    case 'join':
      if (!str('room_name')) return invalid
      if (room === JOINED) return exact(error('room:already-joined', { name: room }))
      return exact(error('room:invalid', { name: room }))
    case 'part':
      if (!str('room_name')) return invalid
      return room === JOINED ? null : notJoined
    case 'history': {
      if (!str('room_name')) return invalid
      if (has('before') && !isMessageId(f.before)) return invalid
      if (has('after') && !isMessageId(f.after)) return invalid
      if (
        has('limit') &&
        !(Number.isInteger(f.limit) && (f.limit as number) >= 1 && (f.limit as number) <= 50)
      )
        return invalid
      if (room !== JOINED) return notJoined
      return { code: 'history', frame: { type: 'notification' }, exact: false }
    }
    case 'message':
    case 'custom': {
      const commandForm = type === 'custom' || has('command')
      if (!str('room_name')) return invalid
      if (commandForm ? !(str('command') && str('payload')) : !str('body')) return invalid
      if (room !== JOINED) return notJoined
      if (commandForm) {
        const command = (f.command as string).trim()
        if (command === '' || f.payload === '') return exact(error('room:empty-custom'))
        if (codePoints(command) > 512 || codePoints(f.payload as string) > 512) {
          return exact(error('room:message-too-long', { max: 512 }))
        }
        return null
      }
      const body = (f.body as string).trim()
      if (body === '') return exact(error('room:empty-message'))
      if (codePoints(body) > 512) return exact(error('room:message-too-long', { max: 512 }))
      return null
    }
  }
  return null
}

function generateCases(seed: number, count: number): Case[] {
  const random = seededRandom(seed)
  const { int, pick } = random
  const chars = [
    'a',
    'Z',
    '0',
    ' ',
    '\t',
    '\n',
    '{',
    '}',
    '[',
    ']',
    '"',
    ':',
    ',',
    '\\',
    'é',
    '😀',
    '\u0000',
    '\u2028',
    'ﬀ',
  ]
  const text = (max: number) => Array.from({ length: int(max) }, () => pick(chars)).join('')
  const blank = () => pick(['', ' ', '  \t', '\n', '\u00a0', '\u3000 '])
  const roomName = () =>
    pick([
      JOINED,
      JOINED,
      'nope',
      '',
      'FUZZ',
      ' fuzz',
      'fuzz ',
      `1${text(6)}`,
      `-${text(4)}`,
      '__proto__',
    ])
  const scalar = (): unknown =>
    pick([
      null,
      true,
      false,
      0,
      1,
      -1,
      1.5,
      51,
      2 ** 60,
      '',
      'x',
      'help',
      [],
      {},
      [1, 'a'],
      { a: { b: 1 } },
    ])
  const value = () => (random.next() < 0.5 ? scalar() : text(12))
  const longText = () => pick(['a', '😀', 'é', ' ']).repeat(510 + int(8))
  const pair = (key: string, v: unknown) => `${JSON.stringify(key)}:${JSON.stringify(v)}`
  const objectText = (pairs: [string, unknown][]) =>
    `{${pairs.map(([k, v]) => pair(k, v)).join(',')}}`
  const extras = (): [string, unknown][] =>
    random.next() < 0.3
      ? [[pick(['__proto__', 'constructor', 'prototype', 'x', 'id', 'you', 'user']), value()]]
      : []

  const makers: (() => { data: Buffer; binary: boolean })[] = [
    // text that is mostly not JSON
    () => ({ data: Buffer.from(text(40)), binary: false }),
    // JSON that is not an object
    () => ({
      data: Buffer.from(
        JSON.stringify(pick([[], [1], 'help', 42, null, true, [{ type: 'help' }]])),
      ),
      binary: false,
    }),
    // binary frames, some holding valid JSON
    () => ({
      data:
        random.next() < 0.5
          ? Buffer.from('{"type":"help"}')
          : Buffer.from(Array.from({ length: int(30) }, () => int(256))),
      binary: true,
    }),
    // truncated frames
    () => {
      const whole = objectText([
        ['type', pick(KNOWN)],
        ['room_name', JOINED],
        ['body', 'x'],
      ])
      return { data: Buffer.from(whole.slice(0, int(whole.length))), binary: false }
    },
    // a type missing, of the wrong kind, or unknown
    () => {
      const pairs: [string, unknown][] = []
      const kind = int(4)
      if (kind === 1) pairs.push(['type', scalar()])
      if (kind === 2)
        pairs.push([
          'type',
          pick(['HELP', 'Join', 'shout', 'room:notification', 'error', ' list', text(6)]),
        ])
      if (kind === 3)
        pairs.push(['type', pick(['toString', 'constructor', '__proto__', 'valueOf'])])
      pairs.push(['room_name', roomName()], ...extras())
      return { data: Buffer.from(objectText(pairs)), binary: false }
    },
    // a known type with fields of random kinds
    () => {
      const type = pick(['join', 'part', 'message', 'custom', 'history', 'message'])
      const pairs: [string, unknown][] = [['type', type]]
      if (random.next() < 0.85)
        pairs.push(['room_name', random.next() < 0.8 ? roomName() : scalar()])
      for (const key of ['body', 'command', 'payload', 'before', 'after', 'limit']) {
        if (random.next() < 0.35) pairs.push([key, random.next() < 0.5 ? scalar() : int(60)])
      }
      pairs.push(...extras())
      return { data: Buffer.from(objectText(pairs)), binary: false }
    },
    // a well-formed room frame that the room refuses: blank, too long or not joined
    () => {
      const form = int(3)
      const room = random.next() < 0.7 ? JOINED : roomName()
      const pairs: [string, unknown][] =
        form === 0
          ? [
              ['type', 'message'],
              ['room_name', room],
              ['body', random.next() < 0.5 ? blank() : longText()],
            ]
          : [
              ['type', form === 1 ? 'message' : 'custom'],
              ['room_name', room],
              [
                'command',
                random.next() < 0.5 ? blank() : random.next() < 0.5 ? 'stock' : longText(),
              ],
              ['payload', random.next() < 0.5 ? '' : random.next() < 0.5 ? blank() : longText()],
            ]
      pairs.push(...extras())
      return { data: Buffer.from(objectText(pairs)), binary: false }
    },
    // harmless requests between the rest
    () => ({
      data: Buffer.from(
        pick([
          '{"type":"help"}',
          '{"type":"list"}',
          `{"type":"history","room_name":"${JOINED}","limit":${1 + int(50)}}`,
        ]),
      ),
      binary: false,
    }),
  ]

  const cases: Case[] = []
  while (cases.length < count) {
    const { data, binary } = pick(makers)()
    if (data.length > 4000) continue
    const expected = oracle(binary ? null : data.toString())
    if (expected === null) continue
    cases.push({ data, binary, expected })
  }
  return cases
}
