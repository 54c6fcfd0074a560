import t from 'tap'
import { parseClientFrame } from '../src/index.js'

const parse = (text: string) => parseClientFrame(text, false)
const invalidFormat = { ok: false, error: { type: 'error', code: 'invalid-format' } }
const unsupported = (type: unknown) => ({
  ok: false,
  error: { type: 'error', code: 'unsupported-command', details: { type } },
})

t.test('every documented frame is accepted and comes back with exactly its fields', async (t) => {
  const valid: Array<[string, unknown]> = [
    ['{"type":"help"}', { type: 'help' }],
    ['{"type":"list"}', { type: 'list' }],
    ['{"type":"join","room_name":"friends"}', { type: 'join', room_name: 'friends' }],
    ['{"type":"part","room_name":"friends"}', { type: 'part', room_name: 'friends' }],
    [
      '{"type":"message","room_name":"friends","body":"  hi  "}',
      { type: 'message', room_name: 'friends', body: '  hi  ' },
    ],
    [
      '{"type":"message","room_name":"friends","body":"hi","client_id":"3f2c9e4a-1b7d-4c0e-9a5f-2d8b6e1c7a90"}',
      {
        type: 'message',
        room_name: 'friends',
        body: 'hi',
        client_id: '3f2c9e4a-1b7d-4c0e-9a5f-2d8b6e1c7a90',
      },
    ],
    // A card is copied as sent, unchecked: the chat service checks it and names what is wrong.
    [
      '{"type":"message","room_name":"r","body":"hi","card":{"kind":"quote","close":1}}',
      { type: 'message', room_name: 'r', body: 'hi', card: { kind: 'quote', close: 1 } },
    ],
    [
      '{"type":"message","room_name":"r","body":"hi","card":null,"client_id":"c"}',
      { type: 'message', room_name: 'r', body: 'hi', client_id: 'c', card: null },
    ],
    [
      '{"type":"message","room_name":"investments","command":"stock","payload":"aapl.us"}',
      { type: 'message', room_name: 'investments', command: 'stock', payload: 'aapl.us' },
    ],
    [
      '{"type":"custom","room_name":"investments","command":"stock","payload":" "}',
      { type: 'custom', room_name: 'investments', command: 'stock', payload: ' ' },
    ],
    ['{"type":"history","room_name":"r"}', { type: 'history', room_name: 'r' }],
    [
      '{"type":"history","room_name":"r","before":10,"limit":50}',
      { type: 'history', room_name: 'r', before: 10, limit: 50 },
    ],
    [
      '{"type":"history","room_name":"r","after":0,"limit":1}',
      { type: 'history', room_name: 'r', after: 0, limit: 1 },
    ],
    [
      '{"type":"history","room_name":"r","before":9,"after":3}',
      { type: 'history', room_name: 'r', before: 9, after: 3 },
    ],
  ]
  for (const [text, frame] of valid) {
    const result = parse(text)
    t.strictSame(result, { ok: true, frame }, text)
  }
})

t.test('a Buffer holding the text parses like the text', async (t) => {
  t.strictSame(parseClientFrame(Buffer.from('{"type":"join","room_name":"é"}'), false), {
    ok: true,
    frame: { type: 'join', room_name: 'é' },
  })
})

t.test('unknown extra fields are tolerated and dropped', async (t) => {
  t.strictSame(parse('{"type":"join","room_name":"r","extra":{"deep":[1,2]},"n":1}'), {
    ok: true,
    frame: { type: 'join', room_name: 'r' },
  })
})

t.test('not JSON, not an object, or binary: invalid-format', async (t) => {
  for (const text of ['', 'hello', '{"type":"help"', '{type:"help"}', "{'type':'help'}"]) {
    t.strictSame(parse(text), invalidFormat, `not JSON: ${JSON.stringify(text)}`)
  }
  for (const text of ['[]', '[{"type":"help"}]', '42', '"help"', 'null', 'true']) {
    t.strictSame(parse(text), invalidFormat, `not an object: ${text}`)
  }
  t.strictSame(parseClientFrame(Buffer.from('{"type":"help"}'), true), invalidFormat, 'binary')
})

t.test('a missing, non-string or unknown type: unsupported-command echoing it', async (t) => {
  t.strictSame(parse('{}'), unsupported(null), 'absent → null')
  t.strictSame(parse('{"room_name":"r"}'), unsupported(null), 'absent → null')
  t.strictSame(parse('{"type":null}'), unsupported(null))
  t.strictSame(parse('{"type":7}'), unsupported(7))
  t.strictSame(parse('{"type":true}'), unsupported(true))
  t.strictSame(parse('{"type":["join"]}'), unsupported(['join']))
  t.strictSame(parse('{"type":{"a":1}}'), unsupported({ a: 1 }))
  t.strictSame(parse('{"type":"dance"}'), unsupported('dance'))
  t.strictSame(parse('{"type":"HELP"}'), unsupported('HELP'), 'types are case-sensitive')
  t.strictSame(parse('{"type":" help"}'), unsupported(' help'))
  for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
    t.strictSame(parse(JSON.stringify({ type: name })), unsupported(name), name)
  }
})

t.test('unknown type wins over wrong field types (the contract checks type first)', async (t) => {
  t.strictSame(parse('{"type":"dance","room_name":5}'), unsupported('dance'))
})

t.test('a known type with a field of the wrong type: invalid-format', async (t) => {
  const wrong = [
    '{"type":"join"}',
    '{"type":"join","room_name":5}',
    '{"type":"join","room_name":null}',
    '{"type":"join","room_name":["r"]}',
    '{"type":"part","room_name":{}}',
    '{"type":"message","room_name":"r"}',
    '{"type":"message","room_name":"r","body":5}',
    '{"type":"message","room_name":"r","body":null}',
    '{"type":"message","room_name":1,"body":"x"}',
    '{"type":"message","room_name":"r","command":"stock"}',
    '{"type":"message","room_name":"r","command":"stock","payload":5}',
    '{"type":"message","room_name":"r","command":null,"payload":"x"}',
    '{"type":"message","room_name":"r","body":"hi","command":null}',
    '{"type":"message","room_name":"r","body":"hi","client_id":7}',
    '{"type":"message","room_name":"r","body":"hi","client_id":null}',
    '{"type":"message","room_name":"r","body":"hi","client_id":""}',
    `{"type":"message","room_name":"r","body":"hi","client_id":"${'x'.repeat(65)}"}`,
    '{"type":"message","room_name":"r","body":"hi","client_id":"has space"}',
    '{"type":"message","room_name":"r","body":"hi","client_id":"nul\\u0000"}',
    '{"type":"message","room_name":"r","body":"hi","client_id":"é"}',
    '{"type":"custom","room_name":"r","command":"stock"}',
    '{"type":"custom","room_name":"r","payload":"x"}',
    '{"type":"custom","room_name":"r","command":1,"payload":"x"}',
    '{"type":"history"}',
    '{"type":"history","room_name":"r","before":"10"}',
    '{"type":"history","room_name":"r","before":1.5}',
    '{"type":"history","room_name":"r","after":-1}',
    '{"type":"history","room_name":"r","after":null}',
    '{"type":"history","room_name":"r","before":1e300}',
    '{"type":"history","room_name":"r","limit":0}',
    '{"type":"history","room_name":"r","limit":51}',
    '{"type":"history","room_name":"r","limit":"5"}',
  ]
  for (const text of wrong) t.strictSame(parse(text), invalidFormat, text)
})

t.test('a client_id of 64 visible ASCII characters is the longest accepted', async (t) => {
  const longest = '~'.repeat(64)
  t.strictSame(
    parse(JSON.stringify({ type: 'message', room_name: 'r', body: 'b', client_id: longest })),
    {
      ok: true,
      frame: { type: 'message', room_name: 'r', body: 'b', client_id: longest },
    },
  )
})

t.test('a message with a command key is the command form, whatever else it has', async (t) => {
  t.strictSame(
    parse('{"type":"message","room_name":"r","body":"ignored","command":"c","payload":"p"}'),
    { ok: true, frame: { type: 'message', room_name: 'r', command: 'c', payload: 'p' } },
  )
})

t.test('__proto__ keys pollute nothing and do not travel on', async (t) => {
  const text =
    '{"__proto__":{"polluted":true,"room_name":"x"},"type":"join","room_name":"r",' +
    '"constructor":{"prototype":{"polluted":true}}}'
  const result = parse(text)
  t.strictSame(result, { ok: true, frame: { type: 'join', room_name: 'r' } })
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched')
  if (!result.ok) throw new Error('expected a frame')
  t.equal(Object.getPrototypeOf(result.frame), Object.prototype)
  t.notOk(Object.hasOwn(result.frame, '__proto__'))

  t.strictSame(parse('{"__proto__":{"type":"help"}}'), unsupported(null), 'no inherited type')
  t.strictSame(
    parse('{"__proto__":{"room_name":"x"},"type":"join"}'),
    invalidFormat,
    'no inherited field',
  )
})

t.test('deep nesting is handled without recursion trouble', async (t) => {
  const depth = 200_000
  const deep = `${'['.repeat(depth)}${']'.repeat(depth)}`
  t.strictSame(parse(deep), invalidFormat, 'a deeply nested array is not an object')
  t.strictSame(
    parse(`{"type":"message","room_name":"r","body":${deep}}`),
    invalidFormat,
    'as a field',
  )
  t.strictSame(parse(`{"type":"dance","x":${deep}}`), unsupported('dance'), 'as an unknown field')

  const echoed = parse(`{"type":${deep}}`)
  t.strictSame(echoed, unsupported(null), 'a type too deep to echo safely is echoed as null')
  t.doesNotThrow(() => JSON.stringify(echoed))
  const shallow = parse('{"type":[[[{"a":[1]}]]]}')
  t.strictSame(shallow, unsupported([[[{ a: [1] }]]]), 'a shallow structure is echoed')
})

t.test('huge strings are accepted as they are (lengths are the chat service’s job)', async (t) => {
  const body = 'x'.repeat(5_000_000)
  const started = process.hrtime.bigint()
  const result = parse(JSON.stringify({ type: 'message', room_name: 'r', body }))
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  t.ok(result.ok && 'body' in result.frame && result.frame.body === body)
  t.ok(ms < 1000, `parsed in ${ms.toFixed(1)} ms`)
})
