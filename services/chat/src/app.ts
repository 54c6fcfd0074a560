import cookie from '@fastify/cookie'
import formbody from '@fastify/formbody'
import websocket from '@fastify/websocket'
import type { Bus, BusSubscription } from '@finchat/bus'
// Brings the kit's decorations (metrics, readiness) into this plugin's view of Fastify.
import type {} from '@finchat/kit'
import { type AuthEvent, type ChatEvent, CloseCode, formatStamp, STREAMS } from '@finchat/protocol'
import {
  createTokenVerifier,
  DEFAULT_SESSION_COOKIE,
  type RevocationList,
  sessionAuthPlugin,
} from '@finchat/sessions'
import type { FastifyInstance } from 'fastify'
import { Counter, Gauge } from 'prom-client'
import type { ChatConnection } from './connections/chat-connection.js'
import { chatSocketRoutes } from './connections/chat-socket.routes.js'
import { createCommandHandler } from './connections/command-handler.js'
import { createConnectionRegistry } from './connections/connection-registry.js'
import { createHandshakeAuth } from './connections/handshake-auth.js'
import type { RateLimit } from './connections/token-bucket.js'
import type { ChatDb } from './db/schema.js'
import { createRoomEventHandler } from './events/room-events.js'
import { createMessagesRepository } from './messages/messages.repository.js'
import { createUnannouncedMessages } from './messages/unannounced-messages.js'
import type { Presence } from './presence/presence.js'
import { adminRoomRoutes } from './rooms/admin-rooms.routes.js'
import { createRoomsRepository } from './rooms/rooms.repository.js'

export interface ChatLimits {
  /** Largest frame accepted; a larger one closes the connection with 1009. */
  maxFrameBytes: number
  rateLimit: RateLimit
  /** Outbound bytes a connection may have waiting before it counts as a slow consumer. */
  maxBufferedBytes: number
  /** Interval of websocket pings; a peer silent for a whole interval is dropped. */
  pingIntervalMs: number
}

export const DEFAULT_LIMITS: ChatLimits = {
  maxFrameBytes: 64 * 1024,
  rateLimit: { burst: 100, perSecond: 20 },
  maxBufferedBytes: 1024 * 1024,
  pingIntervalMs: 30_000,
}

/**
 * Room events read while the stream is busy: after a read of 4 or more, the next waits 10 ms.
 * Each read then carries several events per room, so a recipient gets them in one write
 * instead of one each: at 100 000 deliveries/s, half the socket writes and fewer reads of
 * Redis (docs/benchmarks.md). A quiet stream is read at once, so light load waits for nothing.
 */
const ROOM_EVENTS_LINGER = { entries: 4, ms: 10 }

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
}

/** The chat service as a plugin: websocket sessions, rooms, history, presence and fan-out. */
export function buildChat(options: ChatOptions) {
  return async (app: FastifyInstance) => {
    const limits = { ...DEFAULT_LIMITS, ...options.limits }
    const clock = options.clock ?? (() => new Date())
    const { presence, bus } = options
    const instanceId = presence.instanceId
    const log = app.log.child({ instance: instanceId })
    const registry = createConnectionRegistry()
    const rooms = createRoomsRepository(options.db)
    const messages = createMessagesRepository(options.db)
    const commands = createCommandHandler({
      instanceId,
      db: options.db,
      rooms,
      messages,
      presence,
      bus,
      clock,
      log,
    })
    const verify = createTokenVerifier({
      publicKey: options.publicKey,
      revocations: options.revocations,
    })

    const connectionsGauge = new Gauge({
      name: 'chat_connections',
      help: 'Open chat websockets on this instance',
      registers: [app.metrics],
    })
    const deliveries = new Counter({
      name: 'chat_deliveries_total',
      help: 'Room frames handed to local connections',
      registers: [app.metrics],
    })
    const eventsRead = new Counter({
      name: 'chat_events_read_total',
      help: 'chat:events entries read by this instance',
      registers: [app.metrics],
    })

    /** Releases in flight by user id: a user reconnecting here waits for the last one. */
    const departures = new Map<number, Promise<void>>()

    function release(connection: ChatConnection, announce = true): Promise<void> {
      if (connection.released) return connection.released
      const userId = connection.session.userId
      const done = (async () => {
        registry.remove(connection)
        connectionsGauge.set(registry.size)
        // A join in flight must be published before the parting that undoes it.
        await connection.settled()
        // Partings first, then the claim: a user reconnecting elsewhere must not have their
        // new joins overtaken by the old connection's partings.
        if (announce) await commands.leaveAll(connection)
        else connection.joined.clear()
        await presence.releaseUser(userId).catch((err) => {
          log.warn({ err, user: connection.username }, 'could not release a user')
        })
      })()
      connection.released = done
      departures.set(userId, done)
      const forget = () => {
        if (departures.get(userId) === done) departures.delete(userId)
      }
      done.then(forget, forget)
      return done
    }

    /** Resolves once this instance has let go of the user's previous connection, if it is going. */
    async function departed(username: string, userId: number) {
      const previous = registry.byUsername(username)
      // Its close may not have been handled yet: a socket that is no longer open is gone.
      if (previous && previous.socket.readyState !== previous.socket.OPEN) void release(previous)
      await departures.get(userId)?.catch(() => {})
    }

    function closeAll(code: number, reason: string, announce = true) {
      return Promise.all(
        [...registry.all()].map((connection) => {
          connection.close(code, reason)
          return release(connection, announce)
        }),
      )
    }

    const onRoomEvents = createRoomEventHandler({
      instanceId,
      registry,
      statusFor: commands.statusFor,
      observe: commands.observe,
      onDelivered: (count) => deliveries.inc(count),
      log,
    })
    const subscriptions: BusSubscription[] = [
      bus.subscribe<ChatEvent>(
        STREAMS.chatEvents,
        (entries) => {
          eventsRead.inc(entries.length)
          onRoomEvents(entries)
        },
        { linger: ROOM_EVENTS_LINGER },
      ),
      bus.subscribe<AuthEvent>(STREAMS.authEvents, (entries) => {
        for (const { data } of entries) {
          if (data.type !== 'session.revoked') continue
          const connection = registry.bySession(data.session_id)
          if (!connection) continue
          connection.send(JSON.stringify({ type: 'notification', code: 'logged-out' }))
          connection.close(CloseCode.normal)
          void release(connection)
        }
      }),
    ]
    await Promise.all(subscriptions.map((subscription) => subscription.ready))
    const unannounced = createUnannouncedMessages({ db: options.db, messages, bus, log })
    await presence.start({
      onOrphans: async (orphans, dead) => {
        log.warn({ count: orphans.length }, 'announcing the partings of a dead instance')
        for (const { room, user } of orphans) {
          await bus.append(STREAMS.chatEvents, {
            type: 'room.parted',
            room,
            user,
            stamp: formatStamp(clock()),
          } satisfies ChatEvent)
        }
        await unannounced.remove(dead).catch((err) => {
          log.error({ err, dead: dead.instanceId }, 'could not check for unannounced messages')
        })
      },
      onEvicted: () => void closeAll(CloseCode.serviceRestart, 'instance restarting', false),
      // All at once: the heartbeat waits for this, and one by one, thousands of connections
      // would take long enough for the other instances to judge this one dead.
      onRecordsLost: async () => {
        await Promise.all(
          [...registry.all()].map(async (connection) => {
            if (!(await presence.restoreUser(connection.session.userId))) {
              // The user connected elsewhere while the records were gone: that one wins.
              connection.close(CloseCode.serviceRestart, 'instance restarting')
              void release(connection, false)
              return
            }
            await Promise.all(
              [...connection.joined.keys()].map((room) => presence.join(room, connection.username)),
            )
          }),
        )
      },
    })

    const pings = setInterval(() => {
      for (const connection of registry.all()) {
        if (!connection.alive) {
          connection.socket.terminate()
          continue
        }
        connection.alive = false
        connection.socket.ping()
      }
    }, limits.pingIntervalMs)
    pings.unref()

    app.addHook('onClose', async () => {
      clearInterval(pings)
      await Promise.all(subscriptions.map((subscription) => subscription.close()))
      await presence.stop().catch((err) => log.warn({ err }, 'could not clear presence'))
    })

    await app.register(cookie)
    await app.register(websocket, {
      options: { maxPayload: limits.maxFrameBytes },
      // Graceful stop: 1012 tells clients to reconnect (elsewhere); partings are published
      // before the bus closes.
      preClose: async () => {
        await closeAll(CloseCode.serviceRestart, 'instance restarting')
      },
    })
    await app.register(chatSocketRoutes, {
      registry,
      commands,
      presence,
      authenticate: createHandshakeAuth({
        verify,
        cookieName: options.cookieName ?? DEFAULT_SESSION_COOKIE,
        allowedOrigins: options.allowedOrigins ?? [],
      }),
      rateLimit: limits.rateLimit,
      maxBufferedBytes: limits.maxBufferedBytes,
      release,
      departed,
      onConnectionCount: (count) => connectionsGauge.set(count),
    })
    await app.register(async (admin) => {
      // Admin bodies, like every REST body of the protocol, may be JSON or a form.
      await admin.register(formbody)
      await admin.register(sessionAuthPlugin, {
        verify,
        cookieName: options.cookieName ?? DEFAULT_SESSION_COOKIE,
      })
      await admin.register(adminRoomRoutes, { rooms, bus, presence, clock })
    })
  }
}
