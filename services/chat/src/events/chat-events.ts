import type { BatchHandler, Bus, BusEntry, BusSubscription } from '@finchat/bus'
import {
  type AuthEvent,
  type Card,
  type ChatEvent,
  type CustomCommand,
  formatStamp,
  STREAMS,
} from '@finchat/protocol'

/**
 * Room events read while the stream is busy: after a read of 4 or more, the next waits 10 ms.
 * Each read then carries several events per room, so a recipient gets them in one write
 * instead of one each: at 100 000 deliveries/s, half the socket writes and fewer reads of
 * Redis (docs/benchmarks.md). A quiet stream is read at once, so light load waits for nothing.
 */
const ROOM_EVENTS_LINGER = { entries: 4, ms: 10 }

export interface ChatEventsOptions {
  bus: Bus
  /** The chat instance publishing, so that it recognises its own events; absent outside one. */
  instanceId?: string
  clock?: () => Date
}

/** The connection an event is published for: its instance finds it again by these. */
export interface Actor {
  id: string
  username: string
}

/** A message as stored, with the id and time it is announced under. */
export interface AnnouncedMessage {
  id: number
  username: string
  body: string
  created_at: Date
  /** The sender's name for it, for the sender's own echo. */
  clientId?: string
  card?: Card
}

/** A stored message as the room hears of it: on the stream, and in its sender's own echo. */
export function messageEvent(
  room: string,
  message: AnnouncedMessage,
  instance?: string,
): Extract<ChatEvent, { type: 'room.message' }> {
  return {
    type: 'room.message',
    id: message.id,
    room,
    user: message.username,
    body: message.body,
    stamp: formatStamp(message.created_at),
    instance,
    ...(message.clientId !== undefined && { client_id: message.clientId }),
    ...(message.card !== undefined && { card: message.card }),
  }
}

/**
 * The chat's streams: `chat:events` (every room event, read by every instance), `chat:commands`
 * (custom commands, for bots) and `auth:events` (sessions logged out). Nothing else appends to
 * or reads them.
 */
export function createChatEvents(options: ChatEventsOptions) {
  const { bus, instanceId } = options
  const clock = options.clock ?? (() => new Date())
  const append = (event: ChatEvent) => bus.append(STREAMS.chatEvents, event)
  const now = () => formatStamp(clock())

  return {
    joined(actor: Actor, room: { id: number; name: string }) {
      return append({
        type: 'room.joined',
        room: room.name,
        room_id: room.id,
        user: actor.username,
        stamp: now(),
        instance: instanceId,
        connection: actor.id,
      })
    },

    parted(actor: Actor, room: string) {
      return append({
        type: 'room.parted',
        room,
        user: actor.username,
        stamp: now(),
        instance: instanceId,
        connection: actor.id,
      })
    },

    /** A member of a dead instance, parted on its behalf by the survivor that reaped it. */
    orphanParted(orphan: { room: string; user: string }) {
      return append({ type: 'room.parted', room: orphan.room, user: orphan.user, stamp: now() })
    },

    /**
     * Appended as soon as called: messages announced back to back reach the stream in order.
     * Only above the room's last announced id: a writer that lost its room lock while stalled
     * (PostgreSQL ended its idle session) and announces late is refused (`FencedOffError`),
     * rather than landing after a later message of the room.
     */
    message(room: string, message: AnnouncedMessage) {
      const event = messageEvent(room, message, instanceId)
      return bus.append(STREAMS.chatEvents, event, { key: room, order: message.id })
    },

    /** From now on no message of the room up to this id can be announced. */
    closeRoomUpTo(room: string, messageId: number) {
      return bus.raiseFence(STREAMS.chatEvents, room, messageId)
    },

    /** A custom command: to the room, then to the bots, under one stamp. */
    async custom(actor: Actor, room: string, command: string, payload: string) {
      const at = clock()
      const stamp = formatStamp(at)
      const user = actor.username
      await append({
        type: 'room.custom',
        room,
        user,
        command,
        payload,
        stamp,
        instance: instanceId,
      })
      const forBots: CustomCommand = {
        type: 'command.custom',
        room,
        user,
        command,
        payload,
        stamp,
        at_ms: at.getTime(),
      }
      await bus.append(STREAMS.chatCommands, forBots)
    },

    /** Every instance parts the room's local members and forgets the room. */
    roomDeleted(room: string) {
      return append({ type: 'room.deleted', room, stamp: now() })
    },

    /** Room events from now on, in stream order, in batches. */
    followRoomEvents(onBatch: BatchHandler<ChatEvent>): BusSubscription {
      return bus.subscribe<ChatEvent>(STREAMS.chatEvents, onBatch, { linger: ROOM_EVENTS_LINGER })
    },

    /** The ids of sessions logged out from now on. */
    followSessionRevocations(onRevoked: (sessionId: string) => void): BusSubscription {
      return bus.subscribe<AuthEvent>(STREAMS.authEvents, (entries) => {
        for (const { data } of entries) {
          if (data.type === 'session.revoked') onRevoked(data.session_id)
        }
      })
    },

    /** What `chat:events` holds after the stream id `after` ('0': its start), oldest first. */
    readRoomEvents(after: string, count: number): Promise<BusEntry<ChatEvent>[]> {
      return bus.range<ChatEvent>(STREAMS.chatEvents, after, count)
    },
  }
}

export type ChatEvents = ReturnType<typeof createChatEvents>
