import { ErrorCode, ServerFrame } from '@finchat/protocol'
import { startDeployment } from '@finchat/testing'
import { Value } from '@sinclair/typebox/value'
import fc from 'fast-check'
import t from 'tap'
import { needsServers, users } from './cluster-story.js'

// Thousands of generated frames and requests, most of them wrong on purpose, against the live
// deployment: nothing crashes, every frame gets the answer PROTOCOL.md gives it, and the room
// next door sees nothing of it.

const FRAMES = 3000
const ROOM = 'quiet-zone-7f3a9c'
const types = ['help', 'list', 'join', 'part', 'message', 'custom', 'history']

/** Frames shaped like the protocol's, with every field possibly of the wrong type or absent. */
const anyValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
)
const almostFrames = fc
  .record(
    {
      type: fc.oneof(fc.constantFrom(...types), anyValue),
      room_name: fc.oneof(fc.string({ maxLength: 20 }), anyValue),
      body: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 600 }), anyValue),
      command: anyValue,
      payload: anyValue,
      before: anyValue,
      after: anyValue,
      limit: anyValue,
    },
    { requiredKeys: [] },
  )
  .map((frame) => JSON.stringify(frame))
const rawText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)),
)
const nasty = fc.constantFrom(
  `${'['.repeat(30_000)}${']'.repeat(30_000)}`,
  `{"type":"message","room_name":"${ROOM}","body":"${'x'.repeat(60_000)}"}`,
  '{"__proto__":{"type":"help","polluted":true},"type":"message"}',
  '{"constructor":{"prototype":{"polluted":true}},"type":"join","room_name":"x"}',
  '{"type":"join","room_name":"__proto__"}',
  '{"type":"history","room_name":"toString","before":-1}',
  '{"type":"message","room_name":"\\ud800","body":"\\udfff"}',
  '{"type":"join","room_name":"a"}{"type":"join"}',
  '',
  ' ',
  'null',
  '[]',
  '"help"',
  '{"type":"help"',
)

t.test('hostile input against the live deployment', async (t) => {
  if (needsServers) {
    t.pass('skipped: needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)')
    return
  }
  const deployment = await startDeployment(t, {
    env: { CHAT_RATE_BURST: '1000000', CHAT_RATE_PER_SECOND: '1000000' },
  })
  await deployment.createRooms(ROOM)
  const people = users(t, deployment)
  const carol = await people.user('carol')
  await carol.join(ROOM)
  const mallory = await people.user('mallory')

  await t.test(`${FRAMES} generated frames, each answered per the protocol`, async (t) => {
    const frames = [
      ...fc.sample(almostFrames, FRAMES / 2),
      ...fc.sample(rawText, FRAMES / 2 - 100),
      ...fc.sample(nasty, 100),
    ]
    const answers: unknown[] = []
    const stop = mallory.onFrame((frame) => answers.push(frame))
    for (const [i, frame] of frames.entries()) {
      if (i % 250 === 0) mallory.sendRaw(Buffer.from([0xde, 0xad, 0xbe, 0xef]), true)
      mallory.sendRaw(frame)
    }
    const binaries = Math.ceil(frames.length / 250)
    // The answers come in order; a help request after the last frame marks the end.
    mallory.send({ type: 'help' })
    await mallory.next(
      (f) =>
        f.type === 'notification' &&
        f.code === 'help' &&
        answers.length >= frames.length + binaries + 1,
      60_000,
    )
    stop()
    t.equal(answers.length, frames.length + binaries + 1, 'one answer per frame, no more, no less')
    const codes = new Set<string>(Object.values(ErrorCode))
    const wrong = answers.filter(
      (a) =>
        !Value.Check(ServerFrame, a) ||
        !(
          (a as { type: string }).type === 'notification' ||
          ((a as { type: string }).type === 'error' && codes.has((a as { code: string }).code))
        ),
    )
    t.same(wrong.slice(0, 5), [], 'every answer is a documented error or notification')
    t.notOk(
      answers.some((a) => (a as { code?: string }).code === 'internal-error'),
      'none of them is a server failure',
    )
    t.equal(({} as { polluted?: boolean }).polluted, undefined)
  })

  await t.test('an oversized frame closes that connection only', async (t) => {
    mallory.sendRaw(`{"type":"message","body":"${'y'.repeat(70 * 1024)}"}`)
    t.equal((await mallory.closed).code, 1009)
    const again = await people.connect('mallory')
    again.send({ type: 'list' })
    t.match(await again.next(), { type: 'notification', code: 'list' })
  })

  await t.test('the room next door saw nothing, and every service is up', async (t) => {
    const said = await carol.say(ROOM, 'anyone here?')
    const seen = carol.frames.filter(
      (f) =>
        f.type === 'room:notification' &&
        f.code !== 'joined' &&
        (f as { id?: number }).id !== said.id,
    )
    t.same(seen, [], 'no room event from the attacker')
    for (const service of [deployment.gateway, deployment.auth, ...deployment.chats]) {
      t.equal(service.process.exitCode, null, `${service.url} still runs`)
      t.equal((await fetch(`${service.url}/healthz`)).status, 200)
    }
  })

  await t.test('generated REST requests get 4xx answers in JSON, never a 5xx', async (t) => {
    const requests = fc.sample(
      fc.record({
        path: fc.constantFrom(
          '/register',
          '/login',
          '/logout',
          '/profile',
          '/session',
          '/admin/rooms',
          '/admin/users',
        ),
        method: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT'),
        contentType: fc.constantFrom(
          'application/json',
          'application/x-www-form-urlencoded',
          'text/plain',
          'multipart/form-data; boundary=x',
          'application/json; charset=latin1',
          'application/x-www-form-urlencoded; charset=utf-16',
        ),
        body: fc.oneof(rawText, almostFrames, fc.constant('username=a&username=b&password[]=x')),
        authorization: fc.option(
          fc.oneof(
            fc.string({ maxLength: 60 }),
            fc.constant('Token '),
            fc.constant('Bearer a b c'),
          ),
        ),
      }),
      400,
    )
    const failures: string[] = []
    for (const request of requests) {
      const response = await fetch(`${deployment.url}${request.path}`, {
        method: request.method,
        headers: {
          'content-type': request.contentType,
          ...(request.authorization !== null
            ? { authorization: request.authorization.replace(/[^\t\x20-\x7e]/g, '') }
            : {}),
        },
        body: request.method === 'GET' ? undefined : request.body,
      })
      const text = await response.text()
      if (response.status >= 500 || !/json/.test(response.headers.get('content-type') ?? '')) {
        failures.push(
          `${request.method} ${request.path} ${request.contentType} → ${response.status} ${text.slice(0, 100)}`,
        )
      }
    }
    t.same(failures.slice(0, 5), [], `${requests.length} requests, each a 4xx or 2xx in JSON`)
    const healthy = await fetch(`${deployment.auth.url}/healthz`)
    t.equal(healthy.status, 200)
  })
})
