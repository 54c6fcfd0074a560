import { type Static, Type } from '@sinclair/typebox'

// Bodies only pin field types: length and character rules are checked by the auth service,
// which answers them with Django-style field errors that a schema validator cannot produce.

export const RegisterBody = Type.Object({
  username: Type.String(),
  /** Optional; stored as `""` when omitted. */
  email: Type.Optional(Type.String()),
  password: Type.String(),
})
export type RegisterBody = Static<typeof RegisterBody>

/** `201`. Never carries the password or its hash. */
export const RegisterResponse = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  email: Type.String(),
})
export type RegisterResponse = Static<typeof RegisterResponse>

export const LoginBody = Type.Object({
  username: Type.String(),
  password: Type.String(),
})
export type LoginBody = Static<typeof LoginBody>

/** The token is opaque to clients; each login opens its own session. */
export const LoginResponse = Type.Object({
  token: Type.String({ minLength: 20 }),
})
export type LoginResponse = Static<typeof LoginResponse>

export const ProfileResponse = Type.Object({
  username: Type.String(),
  email: Type.String(),
  id: Type.Integer(),
  is_admin: Type.Boolean(),
  /** Extension: a bot account, whose messages may carry a card; our server always sends it. */
  is_bot: Type.Optional(Type.Boolean()),
})
export type ProfileResponse = Static<typeof ProfileResponse>

/** `400`: field name (or `non_field_errors`) → non-empty list of human-readable messages. */
export const FieldErrors = Type.Record(Type.String(), Type.Array(Type.String(), { minItems: 1 }))
export type FieldErrors = Static<typeof FieldErrors>

/** `401`, `403`, `404`, `409` and other errors not tied to a field. */
export const DetailError = Type.Object({
  detail: Type.String(),
})
export type DetailError = Static<typeof DetailError>

/** `429` (extension). */
export const TooManyRequests = Type.Object({
  detail: Type.String(),
})
export type TooManyRequests = Static<typeof TooManyRequests>

// Admin routes (extension, admin users only).

export const Room = Type.Object({
  name: Type.String(),
})
export type Room = Static<typeof Room>

/** Wrapped in an object so that paging fields can be added without breaking clients. */
export const RoomList = Type.Object({
  rooms: Type.Array(Room),
})
export type RoomList = Static<typeof RoomList>

export const CreateRoomBody = Type.Object({
  name: Type.String(),
})
export type CreateRoomBody = Static<typeof CreateRoomBody>

export const UserSummary = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  email: Type.String(),
  is_admin: Type.Boolean(),
  /** Extension: a bot account, whose messages may carry a card. */
  is_bot: Type.Boolean(),
  /** ISO 8601 in UTC. */
  created_at: Type.Optional(Type.String()),
})
export type UserSummary = Static<typeof UserSummary>

export const UserList = Type.Object({
  users: Type.Array(UserSummary),
})
export type UserList = Static<typeof UserList>

/** Grants or revokes the admin flag of one user. */
export const SetAdminBody = Type.Object({
  is_admin: Type.Boolean(),
})
export type SetAdminBody = Static<typeof SetAdminBody>
