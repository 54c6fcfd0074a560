import { type TSchema, TypeGuard } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { Value } from '@sinclair/typebox/value'
import t from 'tap'
import * as protocol from '../src/index.js'
import {
  ChatCommand,
  ChatEvent,
  ClientFrame,
  ErrorCode,
  ErrorFrame,
  FieldErrors,
  HELP_TEXT,
  HISTORY_PAGE_SIZE,
  LoginResponse,
  MAX_MESSAGE_LENGTH,
  MOTD_TEXT,
  ProfileResponse,
  RegisterBody,
  RegisterResponse,
  ServerFrame,
  SessionRevokedEvent,
  STREAMS,
} from '../src/index.js'

// The compiled checker is what the chat service's tests will use, so test through it.
const serverFrame = TypeCompiler.Compile(ServerFrame)

t.test("PROTOCOL.md's server frames validate (placeholders filled, ids added)", async (t) => {
  const stamp = '2026-11-27 12:12:13'
  const frames = [
    { type: 'fatal', code: 'not-authenticated' },
    { type: 'fatal', code: 'already-chatting' },
    { type: 'notification', code: 'api-motd', content: MOTD_TEXT },
    { type: 'notification', code: 'logged-out' },
    { type: 'notification', code: 'help', help: HELP_TEXT },
    { type: 'notification', code: 'list', list: [{ name: 'family', joined: false }] },
    { type: 'notification', code: 'history', room_name: 'R', messages: [] },
    {
      type: 'room:notification',
      code: 'joined',
      you: true,
      user: 'alice',
      room_name: 'R',
      stamp,
      status: {
        users: [
          { name: 'alice', you: true },
          { name: 'bob', you: false },
        ],
        messages: [
          { id: 2, stamp, user: 'bob', you: false, body: 'newest' },
          { id: 1, stamp, user: 'alice', you: true, body: 'older' },
        ],
      },
    },
    {
      type: 'room:notification',
      code: 'joined',
      you: false,
      user: 'alice',
      room_name: 'R',
      stamp,
      status: null,
    },
    { type: 'room:notification', code: 'parted', you: false, user: 'alice', room_name: 'R', stamp },
    {
      type: 'room:notification',
      code: 'message',
      id: 3,
      you: false,
      user: 'alice',
      room_name: 'R',
      body: 'hi',
      stamp,
    },
    {
      type: 'room:notification',
      code: 'custom',
      you: false,
      user: 'alice',
      room_name: 'R',
      command: 'stock',
      payload: 'aapl.us',
      stamp,
    },
    { type: 'error', code: 'invalid-format' },
    { type: 'error', code: 'unsupported-command', details: { type: 'dance' } },
    { type: 'error', code: 'unsupported-command', details: { type: null } },
    { type: 'error', code: 'room:empty-message' },
    { type: 'error', code: 'room:empty-custom' },
    { type: 'error', code: 'room:not-joined', details: { name: 'R' } },
    { type: 'error', code: 'room:already-joined', details: { name: 'R' } },
    { type: 'error', code: 'room:invalid', details: { name: 'R' } },
    { type: 'error', code: 'room:message-too-long', details: { max: MAX_MESSAGE_LENGTH } },
    { type: 'error', code: 'rate-limited', details: { retry_after_ms: 250 } },
    { type: 'error', code: 'internal-error' },
  ]
  for (const frame of frames) t.ok(serverFrame.Check(frame), JSON.stringify(frame).slice(0, 90))
  t.ok(serverFrame.Check({ ...frames[0], extra: 1 }), 'unknown fields are tolerated')
})

t.test('server frames that break the contract are rejected', async (t) => {
  const stamp = '2026-11-27 12:12:13'
  const message = {
    type: 'room:notification',
    code: 'message',
    you: false,
    user: 'alice',
    room_name: 'R',
    body: 'hi',
    stamp,
  }
  const bad = [
    { ...message, stamp: '2026-11-27T12:12:13Z' },
    message,
    { type: 'error', code: 'room:not-joined' },
    { type: 'error', code: 'room:invalid', details: {} },
    { type: 'error', code: 'no-such-code' },
    { type: 'fatal', code: 'nope' },
    { type: 'room:notification', code: 'joined', you: true, user: 'a', room_name: 'R', stamp },
  ]
  for (const frame of bad) t.notOk(serverFrame.Check(frame), JSON.stringify(frame).slice(0, 90))
})

t.test('every error code has exactly one error frame schema', async (t) => {
  const codes = ErrorFrame.anyOf.map((schema) => schema.properties.code.const)
  t.strictSame([...codes].sort(), Object.values(ErrorCode).sort())
})

t.test("PROTOCOL.md's client frames validate as ClientFrame", async (t) => {
  const frames = [
    { type: 'help' },
    { type: 'list' },
    { type: 'join', room_name: 'R' },
    { type: 'part', room_name: 'R' },
    { type: 'message', room_name: 'R', body: 'B' },
    { type: 'message', room_name: 'R', command: 'C', payload: 'P' },
    { type: 'custom', room_name: 'R', command: 'C', payload: 'P' },
    { type: 'history', room_name: 'R', before: 10 },
    { type: 'history', room_name: 'R', after: 10, limit: HISTORY_PAGE_SIZE },
  ]
  for (const frame of frames) t.ok(Value.Check(ClientFrame, frame), JSON.stringify(frame))
})

t.test('texts: the MOTD points to help, the help names every command', async (t) => {
  t.match(MOTD_TEXT, '{"type": "help"}')
  for (const type of ['help', 'list', 'join', 'part', 'message', 'custom', 'history']) {
    t.match(HELP_TEXT, `{"type": "${type}"`, type)
  }
  t.match(HELP_TEXT, '"body"')
  t.match(HELP_TEXT, '"command"')
})

t.test('HTTP shapes', async (t) => {
  t.ok(
    Value.Check(RegisterBody, { username: 'alice', password: 'correct horse' }),
    'email optional',
  )
  t.notOk(Value.Check(RegisterBody, { username: 1, password: 'x' }), 'strings only')
  t.ok(Value.Check(RegisterResponse, { id: 1, username: 'alice', email: '' }))
  t.ok(Value.Check(LoginResponse, { token: 'x'.repeat(20) }))
  t.notOk(Value.Check(LoginResponse, { token: 'short' }), 'tokens are at least 20 characters')
  t.ok(Value.Check(ProfileResponse, { username: 'a', email: '', id: 1, is_admin: false }))
  t.ok(Value.Check(FieldErrors, { username: ['A user with that username already exists.'] }))
  t.ok(Value.Check(FieldErrors, { non_field_errors: ['Username/Password mismatch'] }))
  t.notOk(Value.Check(FieldErrors, { username: [] }), 'lists are non-empty')
  t.notOk(Value.Check(FieldErrors, { username: 'not a list' }))
})

t.test('bus events', async (t) => {
  t.strictSame(STREAMS, {
    chatEvents: 'chat:events',
    chatCommands: 'chat:commands',
    authEvents: 'auth:events',
  })
  const stamp = '2026-11-27 12:12:13'
  t.ok(
    Value.Check(SessionRevokedEvent, {
      type: 'session.revoked',
      session_id: 's1',
      user_id: 1,
      username: 'alice',
      at: Date.now(),
    }),
  )
  const events = [
    { type: 'room.joined', room: 'R', room_id: 1, user: 'alice', stamp, instance: 'chat-1' },
    { type: 'room.parted', room: 'R', user: 'alice', stamp },
    { type: 'room.message', id: 1, room: 'R', user: 'alice', body: 'hi', stamp },
    { type: 'room.custom', room: 'R', user: 'a', command: 'stock', payload: 'x', stamp },
    { type: 'room.deleted', room: 'R', stamp },
  ]
  for (const event of events) t.ok(Value.Check(ChatEvent, event), event.type)
  t.notOk(Value.Check(ChatEvent, { ...events[2], id: undefined }), 'messages carry their id')
  t.ok(
    Value.Check(ChatCommand, {
      type: 'command.custom',
      room: 'R',
      user: 'a',
      command: 'stock',
      payload: 'aapl.us',
      stamp,
      at_ms: Date.now(),
    }),
  )
})

t.test('schemas are plain JSON Schema, usable by Fastify as they are', async (t) => {
  for (const [name, value] of Object.entries(protocol)) {
    if (!TypeGuard.IsSchema(value)) continue
    const schema: TSchema = value
    t.notOk('$id' in schema, `${name} has no $id`)
    t.doesNotThrow(() => TypeCompiler.Compile(schema), `${name} compiles`)
  }
})
