import { type Static, Type } from '@sinclair/typebox'
import { Card } from './cards.js'
import { Stamp } from './stamp.js'

/** Bus stream names, shared by producers and consumers. */
export const STREAMS = {
  /** Room events, read by every chat instance to fan out to its local members. */
  chatEvents: 'chat:events',
  /** Custom commands, read by bots through a consumer group. */
  chatCommands: 'chat:commands',
  /** Session lifecycle, published by auth. */
  authEvents: 'auth:events',
} as const
export type StreamName = (typeof STREAMS)[keyof typeof STREAMS]

// Events name users and rooms but never carry `you`: each chat instance derives it per
// recipient when it turns an event into a wire frame.

/** On `auth:events`: the session was logged out, so connections opened with it must close. */
export const SessionRevokedEvent = Type.Object({
  type: Type.Literal('session.revoked'),
  session_id: Type.String(),
  user_id: Type.Integer(),
  username: Type.String(),
  /** Epoch milliseconds. */
  at: Type.Integer(),
})
export type SessionRevokedEvent = Static<typeof SessionRevokedEvent>

export const AuthEvent = Type.Union([SessionRevokedEvent])
export type AuthEvent = Static<typeof AuthEvent>

/**
 * `instance` is the chat instance that published the event. The joiner's instance uses it on
 * `room.joined` to recognise its own join when reading it back, and compute `status` then.
 */
const Instance = Type.Optional(Type.String())

/** The connection (on `instance`) that joined or parted, so its instance can find it again. */
const Connection = Type.Optional(Type.String())

export const RoomJoinedEvent = Type.Object({
  type: Type.Literal('room.joined'),
  room: Type.String(),
  /** The room's row id, so the joiner's instance reads its history without a lookup. */
  room_id: Type.Integer(),
  user: Type.String(),
  stamp: Stamp,
  instance: Instance,
  connection: Connection,
})
export type RoomJoinedEvent = Static<typeof RoomJoinedEvent>

export const RoomPartedEvent = Type.Object({
  type: Type.Literal('room.parted'),
  room: Type.String(),
  user: Type.String(),
  stamp: Stamp,
  instance: Instance,
  connection: Connection,
})
export type RoomPartedEvent = Static<typeof RoomPartedEvent>

/** Published only after the message is stored, so `id` and `stamp` are the stored ones. */
export const RoomMessageEvent = Type.Object({
  type: Type.Literal('room.message'),
  id: Type.Integer(),
  room: Type.String(),
  user: Type.String(),
  body: Type.String(),
  stamp: Stamp,
  instance: Instance,
  /** The sender's `client_id`, for its own echo only. */
  client_id: Type.Optional(Type.String()),
  /** The message's card, checked before it was stored; absent when it has none. */
  card: Type.Optional(Card),
})
export type RoomMessageEvent = Static<typeof RoomMessageEvent>

export const RoomCustomEvent = Type.Object({
  type: Type.Literal('room.custom'),
  room: Type.String(),
  user: Type.String(),
  command: Type.String(),
  payload: Type.String(),
  stamp: Stamp,
  instance: Instance,
})
export type RoomCustomEvent = Static<typeof RoomCustomEvent>

/** Every instance sends `parted` (`you: true`) to its local members of the room and forgets it. */
export const RoomDeletedEvent = Type.Object({
  type: Type.Literal('room.deleted'),
  room: Type.String(),
  stamp: Stamp,
})
export type RoomDeletedEvent = Static<typeof RoomDeletedEvent>

/** Entries of `chat:events`; order within a room is the stream's order. */
export const ChatEvent = Type.Union([
  RoomJoinedEvent,
  RoomPartedEvent,
  RoomMessageEvent,
  RoomCustomEvent,
  RoomDeletedEvent,
])
export type ChatEvent = Static<typeof ChatEvent>

/** On `chat:commands`: a custom command for bots, published beside its `room.custom` event. */
export const CustomCommand = Type.Object({
  type: Type.Literal('command.custom'),
  room: Type.String(),
  user: Type.String(),
  command: Type.String(),
  payload: Type.String(),
  stamp: Stamp,
  /** Epoch milliseconds; bots drop commands older than their configured age instead of answering late. */
  at_ms: Type.Integer(),
})
export type CustomCommand = Static<typeof CustomCommand>

export const ChatCommand = Type.Union([CustomCommand])
export type ChatCommand = Static<typeof ChatCommand>
