import { type Static, type TProperties, Type } from '@sinclair/typebox'
import { Card } from './cards.js'
import { ErrorCode, FatalCode } from './error-codes.js'
import { Stamp } from './stamp.js'
import { ClientId } from './ws-client-frames.js'

// Server → client frames: exactly what our server sends, so tests can check it against them.
// Clients must still tolerate fields they do not know; no schema here forbids extra fields.

export const FatalFrame = Type.Object({
  type: Type.Literal('fatal'),
  code: Type.Union([
    Type.Literal(FatalCode.notAuthenticated),
    Type.Literal(FatalCode.alreadyChatting),
  ]),
})
export type FatalFrame = Static<typeof FatalFrame>

// Notifications answer the connection itself, outside any room.

export const ApiMotdNotification = Type.Object({
  type: Type.Literal('notification'),
  code: Type.Literal('api-motd'),
  content: Type.String(),
})
export type ApiMotdNotification = Static<typeof ApiMotdNotification>

export const HelpNotification = Type.Object({
  type: Type.Literal('notification'),
  code: Type.Literal('help'),
  help: Type.String(),
})
export type HelpNotification = Static<typeof HelpNotification>

export const RoomListEntry = Type.Object({
  name: Type.String(),
  joined: Type.Boolean(),
})
export type RoomListEntry = Static<typeof RoomListEntry>

/** Rooms sorted by name in code-point order. */
export const ListNotification = Type.Object({
  type: Type.Literal('notification'),
  code: Type.Literal('list'),
  list: Type.Array(RoomListEntry),
})
export type ListNotification = Static<typeof ListNotification>

/**
 * Followed by a close with code 1000. Extension: `reason` is `expired` when the token the
 * connection was opened with expired; clients that ignore it treat it as a logout, which it is.
 */
export const LoggedOutNotification = Type.Object({
  type: Type.Literal('notification'),
  code: Type.Literal('logged-out'),
  reason: Type.Optional(Type.Literal('expired')),
})
export type LoggedOutNotification = Static<typeof LoggedOutNotification>

/** A stored message as it appears in `joined` status and `history` answers. */
export const HistoryMessage = Type.Object({
  /** Extension: unique and increasing within the room. */
  id: Type.Integer(),
  stamp: Stamp,
  user: Type.String(),
  you: Type.Boolean(),
  body: Type.String(),
  /** Extension: the message's card (bot accounts' messages only); absent when it has none. */
  card: Type.Optional(Card),
})
export type HistoryMessage = Static<typeof HistoryMessage>

/** Extension: the answer to a `history` frame; messages newest first. */
export const HistoryNotification = Type.Object({
  type: Type.Literal('notification'),
  code: Type.Literal('history'),
  room_name: Type.String(),
  messages: Type.Array(HistoryMessage),
})
export type HistoryNotification = Static<typeof HistoryNotification>

export const NotificationFrame = Type.Union([
  ApiMotdNotification,
  HelpNotification,
  ListNotification,
  LoggedOutNotification,
  HistoryNotification,
])
export type NotificationFrame = Static<typeof NotificationFrame>

// Errors: the connection stays open after each of them.

const errorFrame = <C extends ErrorCode, F extends TProperties = Record<never, never>>(
  code: C,
  fields?: F,
) => Type.Object({ type: Type.Literal('error'), code: Type.Literal(code), ...(fields as F) })

const errorFrameWith = <
  C extends ErrorCode,
  D extends TProperties,
  F extends TProperties = Record<never, never>,
>(
  code: C,
  details: D,
  fields?: F,
) =>
  Type.Object({
    type: Type.Literal('error'),
    code: Type.Literal(code),
    details: Type.Object(details),
    ...(fields as F),
  })

/**
 * Extension: an error answering a `message` that carries a `client_id` carries it too, so the
 * client knows which of its messages was refused.
 */
const AnswersMessage = { client_id: Type.Optional(ClientId) }

/** Not JSON, not a JSON object, a binary frame, or a field of the wrong type. */
export const InvalidFormatErrorFrame = errorFrame(ErrorCode.invalidFormat)
export type InvalidFormatErrorFrame = Static<typeof InvalidFormatErrorFrame>

/** `type` echoes what was sent, whatever JSON it was; `null` when absent. */
export const UnsupportedCommandErrorFrame = errorFrameWith(ErrorCode.unsupportedCommand, {
  type: Type.Unknown(),
})
export type UnsupportedCommandErrorFrame = Static<typeof UnsupportedCommandErrorFrame>

export const EmptyMessageErrorFrame = errorFrame(ErrorCode.emptyMessage, AnswersMessage)
export type EmptyMessageErrorFrame = Static<typeof EmptyMessageErrorFrame>

export const EmptyCustomErrorFrame = errorFrame(ErrorCode.emptyCustom)
export type EmptyCustomErrorFrame = Static<typeof EmptyCustomErrorFrame>

/** Also the answer for a room that does not exist, so membership probes reveal nothing. */
export const NotJoinedErrorFrame = errorFrameWith(
  ErrorCode.notJoined,
  { name: Type.String() },
  AnswersMessage,
)
export type NotJoinedErrorFrame = Static<typeof NotJoinedErrorFrame>

export const AlreadyJoinedErrorFrame = errorFrameWith(ErrorCode.alreadyJoined, {
  name: Type.String(),
})
export type AlreadyJoinedErrorFrame = Static<typeof AlreadyJoinedErrorFrame>

export const InvalidRoomErrorFrame = errorFrameWith(ErrorCode.invalidRoom, { name: Type.String() })
export type InvalidRoomErrorFrame = Static<typeof InvalidRoomErrorFrame>

/** Extension: the body is longer than `details.max` characters; nothing is stored. */
export const MessageTooLongErrorFrame = errorFrameWith(
  ErrorCode.messageTooLong,
  { max: Type.Integer() },
  AnswersMessage,
)
export type MessageTooLongErrorFrame = Static<typeof MessageTooLongErrorFrame>

/**
 * Extension: the `message` carried a `card` and its sender is not a bot account; nothing is
 * stored. `details.reason` says so in words.
 */
export const CardNotAllowedErrorFrame = errorFrameWith(
  ErrorCode.cardNotAllowed,
  { reason: Type.String() },
  AnswersMessage,
)
export type CardNotAllowedErrorFrame = Static<typeof CardNotAllowedErrorFrame>

/**
 * Extension: the `message`'s `card` is not a card (`details.reason`: which field is wrong, or
 * that it is larger than `MAX_CARD_BYTES`); nothing is stored.
 */
export const InvalidCardErrorFrame = errorFrameWith(
  ErrorCode.invalidCard,
  { reason: Type.String() },
  AnswersMessage,
)
export type InvalidCardErrorFrame = Static<typeof InvalidCardErrorFrame>

/** Extension: the frame was dropped; the client may send again after `retry_after_ms`. */
export const RateLimitedErrorFrame = errorFrameWith(ErrorCode.rateLimited, {
  retry_after_ms: Type.Integer({ minimum: 0 }),
})
export type RateLimitedErrorFrame = Static<typeof RateLimitedErrorFrame>

/** Extension: see `ErrorCode.internalError`. */
export const InternalErrorFrame = errorFrame(ErrorCode.internalError, AnswersMessage)
export type InternalErrorFrame = Static<typeof InternalErrorFrame>

export const ErrorFrame = Type.Union([
  InvalidFormatErrorFrame,
  UnsupportedCommandErrorFrame,
  EmptyMessageErrorFrame,
  EmptyCustomErrorFrame,
  NotJoinedErrorFrame,
  AlreadyJoinedErrorFrame,
  InvalidRoomErrorFrame,
  MessageTooLongErrorFrame,
  CardNotAllowedErrorFrame,
  InvalidCardErrorFrame,
  RateLimitedErrorFrame,
  InternalErrorFrame,
])
export type ErrorFrame = Static<typeof ErrorFrame>

// Room notifications go to every member of the room; `you` is true on the actor's connection.

export const RoomMember = Type.Object({
  name: Type.String(),
  you: Type.Boolean(),
})
export type RoomMember = Static<typeof RoomMember>

/** Members sorted by name in code-point order, the joiner included; messages newest first. */
export const RoomStatus = Type.Object({
  users: Type.Array(RoomMember),
  messages: Type.Array(HistoryMessage),
})
export type RoomStatus = Static<typeof RoomStatus>

/** `status` is filled only on the joiner's own notification (`you: true`), `null` elsewhere. */
export const JoinedNotification = Type.Object({
  type: Type.Literal('room:notification'),
  code: Type.Literal('joined'),
  you: Type.Boolean(),
  user: Type.String(),
  room_name: Type.String(),
  stamp: Stamp,
  status: Type.Union([RoomStatus, Type.Null()]),
})
export type JoinedNotification = Static<typeof JoinedNotification>

/** Also sent (`you: true`) to every member of a room an administrator deletes. */
export const PartedNotification = Type.Object({
  type: Type.Literal('room:notification'),
  code: Type.Literal('parted'),
  you: Type.Boolean(),
  user: Type.String(),
  room_name: Type.String(),
  stamp: Stamp,
})
export type PartedNotification = Static<typeof PartedNotification>

export const MessageNotification = Type.Object({
  type: Type.Literal('room:notification'),
  code: Type.Literal('message'),
  /** Extension: the stored message's id, as in history entries. */
  id: Type.Integer(),
  you: Type.Boolean(),
  user: Type.String(),
  room_name: Type.String(),
  body: Type.String(),
  stamp: Stamp,
  /**
   * Extension: on the sender's own echo (`you: true`) of a message sent with a `client_id`,
   * that `client_id`; the other members' notifications never carry it.
   */
  client_id: Type.Optional(ClientId),
  /** Extension: the message's card (bot accounts' messages only); absent when it has none. */
  card: Type.Optional(Card),
})
export type MessageNotification = Static<typeof MessageNotification>

export const CustomNotification = Type.Object({
  type: Type.Literal('room:notification'),
  code: Type.Literal('custom'),
  you: Type.Boolean(),
  user: Type.String(),
  room_name: Type.String(),
  command: Type.String(),
  payload: Type.String(),
  stamp: Stamp,
})
export type CustomNotification = Static<typeof CustomNotification>

export const RoomNotification = Type.Union([
  JoinedNotification,
  PartedNotification,
  MessageNotification,
  CustomNotification,
])
export type RoomNotification = Static<typeof RoomNotification>

export const ServerFrame = Type.Union([FatalFrame, NotificationFrame, ErrorFrame, RoomNotification])
export type ServerFrame = Static<typeof ServerFrame>
