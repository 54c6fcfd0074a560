import {
  type ApiMotdNotification,
  type Card,
  type ChatEvent,
  ErrorCode,
  type ErrorFrame,
  type FatalCode,
  type FatalFrame,
  HELP_TEXT,
  type HelpNotification,
  type HistoryMessage,
  type HistoryNotification,
  type JoinedNotification,
  type ListNotification,
  type LoggedOutNotification,
  MAX_MESSAGE_LENGTH,
  MOTD_TEXT,
  type RoomListEntry,
  type RoomNotification,
  type RoomStatus,
} from '@finchat/protocol'
import { messageEvent } from './chat-events.js'

// Every frame the server sends, as the text (or the websocket frame) that goes on the wire.

// Answers to the connection itself.

export const errorFrame = (frame: ErrorFrame) => JSON.stringify(frame)
export const notJoinedFrame = (name: string) =>
  errorFrame({ type: 'error', code: ErrorCode.notJoined, details: { name } })
export const invalidRoomFrame = (name: string) =>
  errorFrame({ type: 'error', code: ErrorCode.invalidRoom, details: { name } })
export const alreadyJoinedFrame = (name: string) =>
  errorFrame({ type: 'error', code: ErrorCode.alreadyJoined, details: { name } })
export const rateLimitedFrame = (retryAfterMs: number) =>
  errorFrame({
    type: 'error',
    code: ErrorCode.rateLimited,
    details: { retry_after_ms: retryAfterMs },
  })
/**
 * An error answering a `message`, with the message's `client_id` when it has one. The frames
 * are JSON objects built once: the field goes in before the closing brace.
 */
export const answeringMessage = (frame: string, clientId: string | undefined) =>
  clientId === undefined ? frame : `${frame.slice(0, -1)},"client_id":${JSON.stringify(clientId)}}`
export const INTERNAL_ERROR = errorFrame({ type: 'error', code: ErrorCode.internalError })
export const EMPTY_MESSAGE = errorFrame({ type: 'error', code: ErrorCode.emptyMessage })
export const EMPTY_CUSTOM = errorFrame({ type: 'error', code: ErrorCode.emptyCustom })
export const CARD_NOT_ALLOWED = errorFrame({
  type: 'error',
  code: ErrorCode.cardNotAllowed,
  details: { reason: 'only bot accounts may send cards' },
})
/** `reason`: checkCard's, which names the wrong field or the size bound. */
export const invalidCardFrame = (reason: string) =>
  errorFrame({ type: 'error', code: ErrorCode.invalidCard, details: { reason } })
export const TOO_LONG = errorFrame({
  type: 'error',
  code: ErrorCode.messageTooLong,
  details: { max: MAX_MESSAGE_LENGTH },
})

export const HELP = JSON.stringify({
  type: 'notification',
  code: 'help',
  help: HELP_TEXT,
} satisfies HelpNotification)
export const MOTD = JSON.stringify({
  type: 'notification',
  code: 'api-motd',
  content: MOTD_TEXT,
} satisfies ApiMotdNotification)
export const LOGGED_OUT = JSON.stringify({
  type: 'notification',
  code: 'logged-out',
} satisfies LoggedOutNotification)
/** Sent as its token expires to a connection still open. */
export const SESSION_EXPIRED = JSON.stringify({
  type: 'notification',
  code: 'logged-out',
  reason: 'expired',
} satisfies LoggedOutNotification)

export const fatalFrame = (code: FatalCode) =>
  JSON.stringify({ type: 'fatal', code } satisfies FatalFrame)

export const listFrame = (list: RoomListEntry[]) =>
  JSON.stringify({ type: 'notification', code: 'list', list } satisfies ListNotification)

export const historyFrame = (roomName: string, messages: HistoryMessage[]) =>
  JSON.stringify({
    type: 'notification',
    code: 'history',
    room_name: roomName,
    messages,
  } satisfies HistoryNotification)

// Room notifications: the same event for every member, but for `you`.

/**
 * A complete websocket text frame (RFC 6455 §5.2: FIN, opcode 1, unmasked, then the length in
 * 7, 16 or 64 bits) around the UTF-8 bytes of `text`. Frames from a server are not masked, so an
 * event's frame is built once and the same bytes are written to each recipient's socket,
 * instead of being encoded and framed again per recipient as `WebSocket#send` does.
 */
export function textFrame(text: string): Buffer {
  const length = Buffer.byteLength(text)
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10
  const frame = Buffer.allocUnsafe(headerLength + length)
  frame[0] = 0x81
  if (length < 126) {
    frame[1] = length
  } else if (length < 65536) {
    frame[1] = 126
    frame.writeUInt16BE(length, 2)
  } else {
    frame[1] = 127
    frame.writeBigUInt64BE(BigInt(length), 2)
  }
  frame.write(text, headerLength)
  return frame
}

/**
 * A room event as websocket frames, serialized and framed at most once per variant: `you: true`
 * for the actor, `you: false` for everyone else, whatever the number of recipients.
 */
export class RoomFrames {
  private mine?: Buffer
  private others?: Buffer

  constructor(private readonly notification: (you: boolean) => object) {}

  for(you: boolean): Buffer {
    if (you) {
      this.mine ??= textFrame(JSON.stringify(this.notification(true)))
      return this.mine
    }
    this.others ??= textFrame(JSON.stringify(this.notification(false)))
    return this.others
  }
}

type RoomEvent = Exclude<ChatEvent, { type: 'room.deleted' }>

/** The fields every room notification starts with, then the event's own. */
const notice = <C extends string, F extends object>(
  code: C,
  you: boolean,
  event: { user: string; room: string },
  fields: F,
) => ({
  type: 'room:notification' as const,
  code,
  you,
  user: event.user,
  room_name: event.room,
  ...fields,
})

function joinedNotification(
  event: { user: string; room: string; stamp: string },
  you: boolean,
  status: RoomStatus | null,
): JoinedNotification {
  return notice('joined', you, event, { stamp: event.stamp, status })
}

function notificationOf(event: RoomEvent, you: boolean): RoomNotification {
  switch (event.type) {
    case 'room.joined':
      return joinedNotification(event, you, null)
    case 'room.parted':
      return notice('parted', you, event, { stamp: event.stamp })
    case 'room.message': {
      const { body, stamp, id, client_id, card } = event
      // The sender's name for it is the sender's business: others are not told. A message
      // without a card has no `card` key, so old clients see what they always saw.
      const fields =
        you && client_id !== undefined ? { body, stamp, id, client_id } : { body, stamp, id }
      return notice('message', you, event, card === undefined ? fields : { ...fields, card })
    }
    case 'room.custom': {
      const { command, payload, stamp } = event
      return notice('custom', you, event, { command, payload, stamp })
    }
  }
}

export const roomFrames = (event: RoomEvent) => new RoomFrames((you) => notificationOf(event, you))

/** A message's own echo, as its sender saw it: the answer to the same message sent again. */
export const ownMessageFrame = (
  room: string,
  message: { id: number; username: string; body: string; created_at: Date; card?: Card },
  clientId: string | undefined,
) => JSON.stringify(notificationOf(messageEvent(room, { ...message, clientId }), true))

/** The joiner's own `joined`, the only one with the room's status. */
export const ownJoinedFrame = (
  event: { user: string; room: string; stamp: string },
  status: RoomStatus,
) => JSON.stringify(joinedNotification(event, true, status))

/** What a member of a deleted room is sent: its own parting, as if it had left. */
export const deletedRoomFrame = (room: string, member: string, stamp: string) =>
  roomFrames({ type: 'room.parted', room, user: member, stamp }).for(true)
