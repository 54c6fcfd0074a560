import {
  type HistoryNotification,
  type JoinedNotification,
  type ListNotification,
  type MessageNotification,
  type PartedNotification,
  ServerFrame,
} from '@finchat/protocol'
import { ChatClient, type ChatConnectOptions } from '@finchat/protocol/client'
import { type StackOptions, type StackServer, startStack } from '@finchat/testing'
import { Value } from '@sinclair/typebox/value'
import type { Test } from 'tap'

// What a client sees, for black-box tests written from PROTOCOL.md: predicates on frames, a
// "send this, then help" round trip that proves what did (and did not) come back, and a
// stack whose clients check every frame they receive against the ServerFrame schema.

export type Sendable = string | Buffer | Record<string, unknown>

export const isMotd = (f: ServerFrame) => f.type === 'notification' && f.code === 'api-motd'
export const isHelp = (f: ServerFrame) => f.type === 'notification' && f.code === 'help'
export const isList = (f: ServerFrame): f is ListNotification =>
  f.type === 'notification' && f.code === 'list'
export const isHistory = (f: ServerFrame): f is HistoryNotification =>
  f.type === 'notification' && f.code === 'history'
export const isFatal = (f: ServerFrame) => f.type === 'fatal'

export const joinedBy =
  (user: string, room: string) =>
  (f: ServerFrame): f is JoinedNotification =>
    f.type === 'room:notification' && f.code === 'joined' && f.user === user && f.room_name === room
export const partedBy =
  (user: string, room: string) =>
  (f: ServerFrame): f is PartedNotification =>
    f.type === 'room:notification' && f.code === 'parted' && f.user === user && f.room_name === room
export const messageIn =
  (room: string, user?: string) =>
  (f: ServerFrame): f is MessageNotification =>
    f.type === 'room:notification' &&
    f.code === 'message' &&
    f.room_name === room &&
    (user === undefined || f.user === user)
/** Any room notification of `room`: what a member sees of it, in order. */
export const inRoom = (room: string) => (f: ServerFrame) =>
  f.type === 'room:notification' && f.room_name === room

/** A frame as it goes on the wire: objects as JSON text, strings as text, Buffers as binary. */
export function sendAny(client: ChatClient, frame: Sendable) {
  if (Buffer.isBuffer(frame)) client.sendRaw(frame, true)
  else client.sendRaw(typeof frame === 'string' ? frame : JSON.stringify(frame))
}

/**
 * Sends `frames`, then `{"type":"help"}`, and returns every frame addressed to the connection
 * itself (anything but room notifications, which stay queued) that came back before the help
 * answer. The help answer proves that the connection is still open and that nothing else was
 * answered. `frames` must not hold a help request themselves (its answer would end the wait).
 */
export async function answersTo(client: ChatClient, ...frames: Sendable[]) {
  for (const frame of frames) sendAny(client, frame)
  client.sendRaw('{"type":"help"}')
  const answers: ServerFrame[] = []
  for (;;) {
    const frame = await client.next((f) => f.type !== 'room:notification')
    if (isHelp(frame)) return answers
    answers.push(frame)
  }
}

/** The one answer to `frame`, checked to be alone (followed directly by the help answer). */
export async function answerTo(t: Test, client: ChatClient, frame: Sendable) {
  const answers = await answersTo(client, frame)
  t.equal(answers.length, 1, `exactly one answer to ${describe(frame)}`)
  return answers[0]
}

export function describe(frame: Sendable) {
  if (Buffer.isBuffer(frame)) return `binary frame of ${frame.length} bytes`
  const text = typeof frame === 'string' ? frame : JSON.stringify(frame)
  return text.length > 80 ? `${text.slice(0, 80)}...` : text
}

/**
 * A stack (one chat instance unless asked) whose clients check every frame they receive
 * against the ServerFrame schema. Call `conformance(t)` last to assert that none failed.
 */
export async function startStory(t: Test, options: StackOptions = {}) {
  const stack = await startStack(t, options)
  const violations: { frame: unknown; problem: string }[] = []
  let checked = 0
  const check = (frame: unknown) => {
    checked++
    if (!Value.Check(ServerFrame, frame)) {
      const first = Value.Errors(ServerFrame, frame).First()
      violations.push({ frame, problem: `${first?.path}: ${first?.message}` })
    }
  }

  function watch(client: ChatClient) {
    for (const frame of client.frames) check(frame)
    client.onFrame(check)
    return client
  }

  return {
    stack,
    watch,
    /** A websocket on `path` (default `/ws/chat`) with any handshake options, nothing awaited. */
    async open(options: ChatConnectOptions & { path?: string; index?: number } = {}) {
      const url = new URL((stack.chats[options.index ?? 0] as StackServer).wsUrl)
      if (options.path !== undefined) url.pathname = options.path
      const client = await ChatClient.connect(url, options)
      stack.track(client)
      return watch(client)
    },
    /** A token client, MOTD not yet consumed. */
    async connect(token: string, options: ChatConnectOptions = {}) {
      return watch(await stack.connect(token, 0, options))
    },
    /** A registered user connected with a token, past the MOTD. */
    async user(username: string) {
      return watch(await stack.user(username))
    },
    conformance(t: Test) {
      t.ok(checked > 0, `${checked} frames were checked`)
      t.same(violations, [], 'every frame received conforms to the ServerFrame schema')
    },
  }
}

export type Story = Awaited<ReturnType<typeof startStory>>

/** A small seeded PRNG (mulberry32), so a failing fuzz run can be replayed. */
export function seededRandom(seed: number) {
  let state = seed >>> 0
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 15), z | 1)
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61)
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (max: number) => Math.floor(next() * max),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
  }
}
