import type { BusEntry } from '@finchat/bus'
import type { ChatEvent, RoomStatus } from '@finchat/protocol'
import type { ChatConnection } from '../connections/chat-connection.js'
import type { ConnectionRegistry } from '../connections/connection-registry.js'
import { joinedNotification, roomFrames } from './room-frames.js'

export interface RoomEventsOptions {
  instanceId: string
  registry: ConnectionRegistry
  /** The joiner's `status`, computed when its own `joined` comes back from the stream. */
  statusFor(connection: ChatConnection, room: { id: number; name: string }): Promise<RoomStatus>
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
export function createRoomEventHandler(options: RoomEventsOptions) {
  const { registry, instanceId } = options

  /** The local connection an event was published for, if it is still the same connection. */
  const actorOf = (event: { user: string; instance?: string; connection?: string }) => {
    if (event.instance !== instanceId) return undefined
    const connection = registry.byUsername(event.user)
    return connection && connection.id === event.connection ? connection : undefined
  }

  function dispatch(event: ChatEvent): number {
    if (event.type === 'room.deleted') {
      const audience = registry.dropAudience(event.room)
      for (const connection of audience) {
        connection.joined.delete(event.room)
        connection.sendPrepared(
          roomFrames({
            type: 'room.parted',
            room: event.room,
            user: connection.username,
            stamp: event.stamp,
          }).for(true),
        )
      }
      return audience.size
    }

    let joiner: ChatConnection | undefined
    if (event.type === 'room.joined') {
      joiner = actorOf(event)
      if (joiner) registry.enterAudience(event.room, joiner)
    }
    const audience = registry.audience(event.room)
    if (!audience) return 0
    const frames = roomFrames(event)
    for (const connection of audience) {
      if (connection === joiner && event.type === 'room.joined') {
        connection.sendLater(
          options
            .statusFor(connection, { id: event.room_id, name: event.room })
            .then((status) =>
              JSON.stringify(joinedNotification(event.user, event.room, event.stamp, true, status)),
            ),
        )
      } else {
        connection.sendPrepared(frames.for(connection.username === event.user))
      }
    }
    const delivered = audience.size
    if (event.type === 'room.parted') {
      const parter = actorOf(event)
      if (parter) registry.leaveAudience(event.room, parter)
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
