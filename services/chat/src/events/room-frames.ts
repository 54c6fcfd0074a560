import type {
  ChatEvent,
  CustomNotification,
  JoinedNotification,
  MessageNotification,
  PartedNotification,
  RoomStatus,
} from '@finchat/protocol'
import { textFrame } from '../connections/websocket-frame.js'

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

export function roomFrames(event: Exclude<ChatEvent, { type: 'room.deleted' }>): RoomFrames {
  switch (event.type) {
    case 'room.joined':
      return new RoomFrames((you) =>
        joinedNotification(event.user, event.room, event.stamp, you, null),
      )
    case 'room.parted':
      return new RoomFrames(
        (you): PartedNotification => ({
          type: 'room:notification',
          code: 'parted',
          you,
          user: event.user,
          room_name: event.room,
          stamp: event.stamp,
        }),
      )
    case 'room.message':
      return new RoomFrames(
        (you): MessageNotification => ({
          type: 'room:notification',
          code: 'message',
          you,
          user: event.user,
          room_name: event.room,
          body: event.body,
          stamp: event.stamp,
          id: event.id,
        }),
      )
    case 'room.custom':
      return new RoomFrames(
        (you): CustomNotification => ({
          type: 'room:notification',
          code: 'custom',
          you,
          user: event.user,
          room_name: event.room,
          command: event.command,
          payload: event.payload,
          stamp: event.stamp,
        }),
      )
  }
}

export function joinedNotification(
  user: string,
  room: string,
  stamp: string,
  you: boolean,
  status: RoomStatus | null,
): JoinedNotification {
  return { type: 'room:notification', code: 'joined', you, user, room_name: room, stamp, status }
}
