import type { BusEntry } from '@finchat/bus'
import type { ChatEvent, RoomStatus } from '@finchat/protocol'
import { deletedRoomFrame, ownJoinedFrame, roomFrames } from './frames.js'

/** What a room event is delivered to: a local connection. */
export interface Recipient {
  readonly id: string
  readonly username: string
  /** Its rooms, from which a deleted room is removed. */
  readonly joined: { delete(room: string): unknown }
  /** A frame built once for every recipient (`textFrame`). */
  sendPrepared(frame: Buffer): void
  /** A frame still being computed; everything sent after it waits for it. */
  sendLater(frame: Promise<string | null>): void
}

/**
 * This instance's recipients by username, and per room those that receive its events. A
 * recipient enters a room's audience when its own `joined` comes back from the stream and
 * leaves it with its own `parted`, so it sees exactly the events between the two.
 */
export interface Audiences<R extends Recipient> {
  byUsername(username: string): R | undefined
  audience(room: string): ReadonlySet<R> | undefined
  enterAudience(room: string, recipient: R): void
  leaveAudience(room: string, recipient: R): void
  /** Forgets the room's audience, answering who was in it. */
  dropAudience(room: string): ReadonlySet<R>
}

export interface RoomDispatchOptions<R extends Recipient> {
  instanceId: string
  audiences: Audiences<R>
  /** The joiner's `status`, computed when its own `joined` comes back from the stream. */
  statusFor(recipient: NoInfer<R>, room: { id: number; name: string }): Promise<RoomStatus>
  /** Sees each event, in stream order, just before it is dispatched. */
  observe?(event: ChatEvent): void
  onDelivered?(count: number): void
  log: { error(obj: object, msg: string): void }
}

/**
 * Turns `chat:events` into frames for this instance's connections. Every instance reads the
 * same stream in the same order, so every member of a room sees the same sequence, wherever it
 * is connected. No database work happens here except a joiner's status.
 */
export function createRoomDispatch<R extends Recipient>(options: RoomDispatchOptions<R>) {
  const { audiences, instanceId } = options

  /** The local recipient an event was published for, if it is still the same connection. */
  const actorOf = (event: { user: string; instance?: string; connection?: string }) => {
    if (event.instance !== instanceId) return undefined
    const recipient = audiences.byUsername(event.user)
    return recipient && recipient.id === event.connection ? recipient : undefined
  }

  function dispatch(event: ChatEvent): number {
    if (event.type === 'room.deleted') {
      const audience = audiences.dropAudience(event.room)
      for (const recipient of audience) {
        recipient.joined.delete(event.room)
        recipient.sendPrepared(deletedRoomFrame(event.room, recipient.username, event.stamp))
      }
      return audience.size
    }

    let joiner: R | undefined
    if (event.type === 'room.joined') {
      joiner = actorOf(event)
      if (joiner) audiences.enterAudience(event.room, joiner)
    }
    const audience = audiences.audience(event.room)
    if (!audience) return 0
    const frames = roomFrames(event)
    for (const recipient of audience) {
      if (recipient === joiner && event.type === 'room.joined') {
        recipient.sendLater(
          options
            .statusFor(recipient, { id: event.room_id, name: event.room })
            .then((status) => ownJoinedFrame(event, status)),
        )
      } else {
        recipient.sendPrepared(frames.for(recipient.username === event.user))
      }
    }
    const delivered = audience.size
    if (event.type === 'room.parted') {
      const parter = actorOf(event)
      if (parter) audiences.leaveAudience(event.room, parter)
    }
    return delivered
  }

  return (entries: BusEntry<ChatEvent>[]) => {
    let delivered = 0
    for (const { id, data } of entries) {
      try {
        options.observe?.(data)
        delivered += dispatch(data)
      } catch (error) {
        // One malformed event must not stop the room's stream for everyone.
        options.log.error({ err: error, entry: id }, 'could not dispatch a room event')
      }
    }
    options.onDelivered?.(delivered)
  }
}

export type RoomDispatch = ReturnType<typeof createRoomDispatch>
