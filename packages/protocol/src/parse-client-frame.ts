import { TypeCompiler } from '@sinclair/typebox/compiler'
import { ErrorCode } from './error-codes.js'
import {
  type ClientFrame,
  CustomFrame,
  HistoryFrame,
  JoinFrame,
  MessageCommandFrame,
  MessageFrame,
  PartFrame,
} from './ws-client-frames.js'
import type { InvalidFormatErrorFrame, UnsupportedCommandErrorFrame } from './ws-server-frames.js'

export type ParsedClientFrame =
  | { ok: true; frame: ClientFrame }
  | { ok: false; error: InvalidFormatErrorFrame | UnsupportedCommandErrorFrame }

type Fields = Record<string, unknown>

// Compiled once: validation runs on every frame of every connection.
const joinCheck = TypeCompiler.Compile(JoinFrame)
const partCheck = TypeCompiler.Compile(PartFrame)
const messageCheck = TypeCompiler.Compile(MessageFrame)
const messageCommandCheck = TypeCompiler.Compile(MessageCommandFrame)
const customCheck = TypeCompiler.Compile(CustomFrame)
const historyCheck = TypeCompiler.Compile(HistoryFrame)

// Each reader copies only the known fields into a fresh object, so nothing a client adds
// (an own `__proto__` key, huge unknown fields) travels further into the server.
// A Map rather than an object literal, so that types like "constructor" find nothing.
const readers = new Map<string, (fields: Fields) => ClientFrame | undefined>([
  ['help', () => ({ type: 'help' })],
  ['list', () => ({ type: 'list' })],
  ['join', (f) => (joinCheck.Check(f) ? { type: 'join', room_name: f.room_name } : undefined)],
  ['part', (f) => (partCheck.Check(f) ? { type: 'part', room_name: f.room_name } : undefined)],
  [
    'message',
    (f) => {
      // A `command` key, whatever its value, selects the command form, as in the original.
      if (Object.hasOwn(f, 'command')) {
        if (!messageCommandCheck.Check(f)) return undefined
        const { room_name, command, payload } = f
        return { type: 'message', room_name, command, payload }
      }
      if (!messageCheck.Check(f)) return undefined
      const { room_name, body, client_id, card } = f
      const frame: MessageFrame = { type: 'message', room_name, body }
      if (client_id !== undefined) frame.client_id = client_id
      // Copied as sent, unchecked: the chat service checks it, and says what is wrong with it.
      if (Object.hasOwn(f, 'card')) frame.card = card
      return frame
    },
  ],
  [
    'custom',
    (f) => {
      if (!customCheck.Check(f)) return undefined
      const { room_name, command, payload } = f
      return { type: 'custom', room_name, command, payload }
    },
  ],
  [
    'history',
    (f) => {
      if (!historyCheck.Check(f)) return undefined
      const frame: HistoryFrame = { type: 'history', room_name: f.room_name }
      if (f.before !== undefined) frame.before = f.before
      if (f.after !== undefined) frame.after = f.after
      if (f.limit !== undefined) frame.limit = f.limit
      return frame
    },
  ],
])

/**
 * Beyond this nesting an echoed `type` is replaced by `null`: JSON.stringify recurses, and a
 * few thousand levels (well within a normal frame size) overflow the stack of whoever
 * serializes the error frame.
 */
const MAX_ECHO_DEPTH = 32

/**
 * Validates one websocket frame in the contract's order: a binary frame, text that is not
 * JSON, or JSON that is not an object → `invalid-format`; a `type` that is missing, not a
 * string or unknown → `unsupported-command` echoing it; a known type whose fields have the
 * wrong types → `invalid-format`. Emptiness, length and membership are the chat service's.
 */
export function parseClientFrame(data: string | Buffer, isBinary: boolean): ParsedClientFrame {
  if (isBinary) return invalidFormat()
  let value: unknown
  try {
    value = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'))
  } catch {
    return invalidFormat()
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return invalidFormat()
  const fields = value as Fields
  const type = Object.hasOwn(fields, 'type') ? fields.type : null
  const read = typeof type === 'string' ? readers.get(type) : undefined
  if (read === undefined) {
    return {
      ok: false,
      error: { type: 'error', code: ErrorCode.unsupportedCommand, details: { type: echo(type) } },
    }
  }
  const frame = read(fields)
  return frame === undefined ? invalidFormat() : { ok: true, frame }
}

function invalidFormat(): ParsedClientFrame {
  return { ok: false, error: { type: 'error', code: ErrorCode.invalidFormat } }
}

function echo(type: unknown): unknown {
  if (typeof type !== 'object' || type === null) return type
  return nestsDeeperThan(type, MAX_ECHO_DEPTH) ? null : type
}

// Iterative on purpose: the input is exactly the kind of value that would overflow recursion.
function nestsDeeperThan(root: object, limit: number): boolean {
  const pending: Array<{ value: object; depth: number }> = [{ value: root, depth: 1 }]
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    if (item.depth > limit) return true
    for (const child of Object.values(item.value)) {
      if (typeof child === 'object' && child !== null) {
        pending.push({ value: child, depth: item.depth + 1 })
      }
    }
  }
  return false
}
