import { type Static, Type } from '@sinclair/typebox'
import { HISTORY_PAGE_SIZE, MAX_CLIENT_ID_LENGTH } from './limits.js'

// Client → server frames. Unknown extra fields are tolerated, as the contract asks of both sides.

export const HelpFrame = Type.Object({
  type: Type.Literal('help'),
})
export type HelpFrame = Static<typeof HelpFrame>

export const ListFrame = Type.Object({
  type: Type.Literal('list'),
})
export type ListFrame = Static<typeof ListFrame>

export const JoinFrame = Type.Object({
  type: Type.Literal('join'),
  room_name: Type.String(),
})
export type JoinFrame = Static<typeof JoinFrame>

export const PartFrame = Type.Object({
  type: Type.Literal('part'),
  room_name: Type.String(),
})
export type PartFrame = Static<typeof PartFrame>

/**
 * Extension: the sender's name for one message, so that sending it again is safe. Visible ASCII
 * only: it is stored beside the message, and a NUL (which PostgreSQL text cannot hold) would fail
 * the insert of every message written in the same statement.
 */
export const ClientId = Type.String({
  minLength: 1,
  maxLength: MAX_CLIENT_ID_LENGTH,
  pattern: '^[!-~]+$',
})

/**
 * A stored chat message. Narrow `type: 'message'` frames with `'body' in frame`. With a
 * `client_id` (extension), the same user sending the same one to the same room again stores
 * nothing new and is answered with the original's echo.
 */
export const MessageFrame = Type.Object({
  type: Type.Literal('message'),
  room_name: Type.String(),
  body: Type.String(),
  client_id: Type.Optional(ClientId),
  /**
   * Extension: a `Card` (cards.ts), bot accounts only. Any JSON here: the chat service checks
   * it and answers a bad one with an error frame, where a wrong type would be `invalid-format`
   * with nothing to tell the bot what was wrong.
   */
  card: Type.Optional(Type.Unknown()),
})
export type MessageFrame = Static<typeof MessageFrame>

/**
 * The documented form of a custom command `/command=payload`. A `message` frame that has a
 * `command` key is this form whatever else it carries (a `body` beside it is ignored), as in
 * the original service.
 */
export const MessageCommandFrame = Type.Object({
  type: Type.Literal('message'),
  room_name: Type.String(),
  command: Type.String(),
  payload: Type.String(),
})
export type MessageCommandFrame = Static<typeof MessageCommandFrame>

/** The same custom command in the form the original web client sends. */
export const CustomFrame = Type.Object({
  type: Type.Literal('custom'),
  room_name: Type.String(),
  command: Type.String(),
  payload: Type.String(),
})
export type CustomFrame = Static<typeof CustomFrame>

const MessageId = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })

/**
 * Extension. `before` and `after` are exclusive bounds on message ids: `before` pages back from
 * a message, `after` pages forward from one (the messages right after it, so a reconnecting
 * client can fill its gap in order), both together read a window, neither reads the newest.
 * The answer is newest first either way, like `status.messages`.
 */
export const HistoryFrame = Type.Object({
  type: Type.Literal('history'),
  room_name: Type.String(),
  before: Type.Optional(MessageId),
  after: Type.Optional(MessageId),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: HISTORY_PAGE_SIZE })),
})
export type HistoryFrame = Static<typeof HistoryFrame>

export const ClientFrame = Type.Union([
  HelpFrame,
  ListFrame,
  JoinFrame,
  PartFrame,
  MessageFrame,
  MessageCommandFrame,
  CustomFrame,
  HistoryFrame,
])
export type ClientFrame = Static<typeof ClientFrame>
