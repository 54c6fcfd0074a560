import cookie from '@fastify/cookie'
import websocket from '@fastify/websocket'
import type { Bus } from '@finchat/bus'
// Brings the kit's decorations (metrics, readiness) into this plugin's view of Fastify.
import type {} from '@finchat/kit'
import { CloseCode } from '@finchat/protocol'
import { createTokenVerifier, DEFAULT_SESSION_COOKIE, type RevocationList } from '@finchat/sessions'
import type { FastifyInstance } from 'fastify'
import type { ChatDb } from './db/schema.js'
import { createCommands } from './domain/commands.js'
import { createDeadInstanceHandler } from './domain/dead-instances.js'
import { createMessagesRepository } from './domain/messages.repository.js'
import { createRoomAdmin } from './domain/room-admin.js'
import { createRoomAnnouncements } from './domain/room-announcements.js'
import type { RoomWriterOptions } from './domain/room-writer.js'
import { createRoomsRepository } from './domain/rooms.repository.js'
import { createChatEvents } from './events/chat-events.js'
import { createRoomDispatch } from './events/room-dispatch.js'
import { createChatMetrics } from './metrics.js'
import type { Presence } from './presence/presence.js'
import { adminRoomRoutes } from './routes/admin-rooms.routes.js'
import { chatSocketRoutes } from './transport/chat-socket.routes.js'
import { createConnectionLifecycle } from './transport/connection-lifecycle.js'
import { createConnectionRegistry } from './transport/connection-registry.js'
import { createHandshakeAuth } from './transport/handshake-auth.js'
import type { RateLimit } from './transport/token-bucket.js'

export interface ChatLimits {
  /** Largest frame accepted; a larger one closes the connection with 1009. */
  maxFrameBytes: number
  rateLimit: RateLimit
  /** Outbound bytes a connection may have waiting before it counts as a slow consumer. */
  maxBufferedBytes: number
  /** Interval of websocket pings; a peer silent for a whole interval is dropped. */
  pingIntervalMs: number
  /** Longest a handshake may take (token check, claim of the user); then close 1013. */
  handshakeTimeoutMs: number
  /** What a client may send before its handshake finishes, in frames and bytes; then 1008. */
  maxEarlyFrames: number
  maxEarlyBytes: number
}

export const DEFAULT_LIMITS: ChatLimits = {
  maxFrameBytes: 64 * 1024,
  rateLimit: { burst: 100, perSecond: 20 },
  maxBufferedBytes: 1024 * 1024,
  pingIntervalMs: 30_000,
  handshakeTimeoutMs: 10_000,
  maxEarlyFrames: 100,
  maxEarlyBytes: 1024 * 1024,
}

export interface ChatOptions {
  db: ChatDb
  bus: Bus
  presence: Presence
  revocations: RevocationList
  publicKey: string
  limits?: Partial<ChatLimits>
  cookieName?: string
  allowedOrigins?: string[]
  clock?: () => Date
  /** How messages are written, for the database at hand (see `RoomWriterOptions`). */
  writer?: Pick<RoomWriterOptions, 'roomLocks' | 'batchWindowMs'>
}

/**
 * The chat service as a plugin: websocket sessions, rooms, history, presence and fan-out.
 * Events (`events/`) are the streams and the frames; the domain (`domain/`) the chat's rules;
 * the transport (`transport/`) the websockets and the life of each connection.
 */
export function buildChat(options: ChatOptions) {
  return async (app: FastifyInstance) => {
    const limits = { ...DEFAULT_LIMITS, ...options.limits }
    const { db, bus, presence, clock } = options
    const instanceId = presence.instanceId
    const log = app.log.child({ instance: instanceId })
    const metrics = createChatMetrics(app.metrics)
    const cookieName = options.cookieName ?? DEFAULT_SESSION_COOKIE
    const verify = createTokenVerifier({
      publicKey: options.publicKey,
      revocations: options.revocations,
    })

    const events = createChatEvents({ bus, instanceId, clock })
    const messages = createMessagesRepository(db)
    const rooms = createRoomsRepository(db)
    const commands = createCommands({
      db,
      rooms,
      messages,
      presence,
      events,
      log,
      writer: options.writer,
    })
    const registry = createConnectionRegistry()
    const connections = createConnectionLifecycle({
      registry,
      commands,
      presence,
      events,
      authenticate: createHandshakeAuth({
        verify,
        cookieName,
        allowedOrigins: options.allowedOrigins ?? [],
      }),
      limits,
      log,
      onConnectionCount: (count) => metrics.connections.set(count),
    })
    const dispatch = createRoomDispatch({
      instanceId,
      audiences: registry,
      statusFor: commands.statusFor,
      observe: commands.observe,
      onDelivered: (count) => metrics.deliveries.inc(count),
      log,
    })
    const roomEvents = events.followRoomEvents((entries) => {
      metrics.eventsRead.inc(entries.length)
      dispatch(entries)
    })

    await Promise.all([roomEvents.ready, connections.start()])
    await presence.start({
      onOrphans: createDeadInstanceHandler({ db, messages, events, log }),
      // Connections that ended while Redis was away: their partings, announced late.
      onGhosts: async (ghosts) => {
        for (const ghost of ghosts) await events.orphanParted(ghost)
      },
      ...connections.presenceHandlers,
    })
    const announcements = createRoomAnnouncements({ db, bus, presence, log })
    announcements.start()
    app.addHook('onClose', async () => {
      await Promise.all([connections.stop(), roomEvents.close(), announcements.stop()])
      await presence.stop().catch((err) => log.warn({ err }, 'could not clear presence'))
    })

    await app.register(cookie)
    await app.register(websocket, {
      options: { maxPayload: limits.maxFrameBytes },
      // Graceful stop: 1012 tells clients to reconnect (elsewhere); partings are published
      // before the bus closes.
      preClose: async () => {
        await connections.closeAll(CloseCode.serviceRestart, 'instance restarting')
      },
    })
    await app.register(chatSocketRoutes, { open: connections.open })
    await app.register(adminRoomRoutes, {
      roomAdmin: createRoomAdmin({ db, announce: announcements.flush }),
      verify,
      cookieName,
    })
  }
}
