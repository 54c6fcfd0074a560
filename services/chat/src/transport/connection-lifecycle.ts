import type { BusSubscription } from '@finchat/bus'
import { CloseCode, FatalCode } from '@finchat/protocol'
import type { FastifyRequest } from 'fastify'
import type { RawData, WebSocket } from 'ws'
import type { Commands } from '../domain/commands.js'
import type { ChatEvents } from '../events/chat-events.js'
import { fatalFrame, LOGGED_OUT, MOTD, SESSION_EXPIRED } from '../events/frames.js'
import type { Presence, PresenceHandlers } from '../presence/presence.js'
import { ChatConnection } from './chat-connection.js'
import type { ConnectionRegistry } from './connection-registry.js'
import type { HandshakeResult } from './handshake-auth.js'
import { createFrameReader } from './inbound-frames.js'
import type { RateLimit } from './token-bucket.js'

export interface ConnectionLifecycleOptions {
  registry: ConnectionRegistry
  commands: Pick<Commands, 'handle' | 'leaveAll'>
  presence: Presence
  events: Pick<ChatEvents, 'followSessionRevocations'>
  authenticate(request: FastifyRequest): Promise<HandshakeResult>
  limits: {
    rateLimit: RateLimit
    /** Outbound bytes a connection may have waiting before it counts as a slow consumer. */
    maxBufferedBytes: number
    /** Interval of websocket pings; a peer silent for a whole interval is dropped. */
    pingIntervalMs: number
    /** Longest a handshake may take (token check, claim of the user); then 1013. */
    handshakeTimeoutMs: number
    /** Frames, and their bytes, a client may send before its handshake finishes; then 1008. */
    maxEarlyFrames: number
    maxEarlyBytes: number
  }
  log: {
    debug(obj: object, msg: string): void
    warn(obj: object, msg: string): void
  }
  onConnectionCount(count: number): void
}

const rawLength = (data: RawData) =>
  Array.isArray(data) ? data.reduce((sum, part) => sum + part.length, 0) : data.byteLength

// setTimeout's longest delay (about 24.8 days); a later expiry is waited for in steps.
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * Calls `expire` when the token's expiry (seconds since the epoch) has come, so a connection
 * does not outlive the token it was opened with. `timer` is the current step's, to clear.
 */
function atExpiry(expiresAt: number, expire: () => void) {
  const handle = { timer: undefined as NodeJS.Timeout | undefined }
  // Never at once, even when already due: the connection's setup finishes first.
  const arm = () => {
    const left = expiresAt * 1000 - Date.now()
    handle.timer = setTimeout(left <= 0 ? expire : arm, Math.max(0, Math.min(left, MAX_TIMER_MS)))
    handle.timer.unref()
  }
  arm()
  return handle
}

function endWithFatal(socket: WebSocket, code: FatalCode) {
  socket.send(fatalFrame(code))
  socket.close(CloseCode.normal)
}

/**
 * The whole life of this instance's chat connections: the handshake, the claim of the user's
 * one connection, the frames in, liveness pings, and every way a connection ends (the client
 * closes, a slow consumer, a logout, a silent peer, this instance stopping or evicted) with
 * its partings announced and its user released.
 */
export function createConnectionLifecycle(options: ConnectionLifecycleOptions) {
  const { registry, commands, presence, limits, log } = options
  const readFrame = createFrameReader(commands)
  /** Releases in flight by user id: a user reconnecting here waits for the last one. */
  const departures = new Map<number, Promise<void>>()
  /** Users whose handshake is claiming them here, not yet registered. */
  const claiming = new Set<number>()
  let pings: NodeJS.Timeout | undefined
  let revocations: BusSubscription | undefined

  /** Ends a connection for good: leaves its rooms, then frees the user. Idempotent. */
  function release(connection: ChatConnection, announce = true): Promise<void> {
    if (connection.released) return connection.released
    const userId = connection.userId
    const done = (async () => {
      registry.remove(connection)
      options.onConnectionCount(registry.size)
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

  /** Closes the connection and lets it go; `announce: false` when its partings are out already. */
  function end(connection: ChatConnection, code: number, reason?: string, announce = true) {
    connection.close(code, reason)
    return release(connection, announce)
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
      [...registry.all()].map((connection) => end(connection, code, reason, announce)),
    )
  }

  /** A client that does not read is let go rather than have the server hold its backlog. */
  function onSlow(slow: ChatConnection) {
    log.warn({ user: slow.username }, 'closing a slow consumer')
    void end(slow, CloseCode.slowConsumer, 'slow consumer')
  }

  /** A peer silent for a whole interval is dropped; the others are pinged. */
  function ping() {
    for (const connection of registry.all()) {
      if (!connection.alive) {
        connection.socket.terminate()
        continue
      }
      connection.alive = false
      connection.socket.ping()
    }
  }

  /** A websocket just upgraded on `/ws/chat`: it becomes the user's chat connection, or ends. */
  async function open(socket: WebSocket, request: FastifyRequest) {
    // The listeners below live as long as the socket and share one scope: it keeps only what
    // they use (not the request, nor its logger, which would cost every open connection).
    const reqId = request.id
    let connection: ChatConnection | undefined
    // Frames may arrive while the handshake is checked: keep them, in order, for afterwards,
    // but only so many: a client cannot make the server hold what it sends before it is known.
    let early: [RawData, boolean][] | undefined
    let earlyBytes = 0
    socket.on('message', (data, isBinary) => {
      if (connection) return readFrame(connection, data, isBinary)
      if (socket.readyState !== socket.OPEN) return
      early ??= []
      early.push([data, isBinary])
      earlyBytes += rawLength(data)
      if (early.length > limits.maxEarlyFrames || earlyBytes > limits.maxEarlyBytes) {
        early = undefined
        socket.close(CloseCode.policyViolation, 'too much sent before the handshake finished')
      }
    })
    socket.on('error', (err) => log.debug({ reqId, err }, 'websocket error'))
    // A handshake waits on the revocation list and the presence store: it may not wait forever.
    const handshake = setTimeout(() => {
      if (connection || socket.readyState !== socket.OPEN) return
      log.warn({ reqId }, 'a websocket handshake took too long')
      socket.close(CloseCode.tryAgainLater, 'try again later')
    }, limits.handshakeTimeoutMs)
    try {
      await handshakeFor(socket, request, (opened) => {
        connection = opened
      })
    } finally {
      clearTimeout(handshake)
    }
    const waiting = early ?? []
    early = undefined
    if (!connection || socket.readyState !== socket.OPEN) return
    for (const [data, isBinary] of waiting) readFrame(connection, data, isBinary)
  }

  /** Authenticates the socket, claims its user and registers it; `onOpened` once it is the user's. */
  async function handshakeFor(
    socket: WebSocket,
    request: FastifyRequest,
    onOpened: (connection: ChatConnection) => void,
  ) {
    let auth: HandshakeResult
    try {
      auth = await options.authenticate(request)
    } catch (err) {
      // The revocation list is unreachable: not the client's fault, so no `fatal`.
      request.log.warn({ err }, 'could not verify a websocket token')
      return socket.close(CloseCode.tryAgainLater, 'try again later')
    }
    // Closed meanwhile (by the client, the timeout or the early-frames limit): nothing to claim.
    if (socket.readyState !== socket.OPEN) return
    if (auth.kind === 'refused') return endWithFatal(socket, FatalCode.notAuthenticated)
    const { session } = auth
    // A user reconnecting right after a close finds the old connection still letting go here:
    // wait for it instead of refusing a user who has no live connection any more.
    await departed(session.username, session.userId)
    // From before the claim until the connection is registered: a claim on its way is held.
    claiming.add(session.userId)
    let opened: ChatConnection
    try {
      if (registry.byUsername(session.username) || !(await presence.claimUser(session.userId))) {
        return endWithFatal(socket, FatalCode.alreadyChatting)
      }
      opened = new ChatConnection(
        socket,
        session,
        auth.viaToken,
        limits.rateLimit,
        limits.maxBufferedBytes,
        onSlow,
      )
      if (socket.readyState !== socket.OPEN) {
        await presence.releaseUser(session.userId)
        return
      }
      registry.add(opened)
    } finally {
      claiming.delete(session.userId)
    }
    options.onConnectionCount(registry.size)
    const expiry = atExpiry(session.expiresAt, () => {
      opened.send(SESSION_EXPIRED)
      void end(opened, CloseCode.normal)
    })
    socket.on('close', () => {
      clearTimeout(expiry.timer)
      void release(opened)
    })
    socket.on('pong', () => {
      opened.alive = true
    })
    if (auth.viaToken) opened.send(MOTD)
    onOpened(opened)
  }

  const presenceHandlers: Pick<PresenceHandlers, 'onEvicted' | 'onRecordsLost' | 'held'> = {
    // Connections still letting go, or being claimed, count as held: their change is on its way.
    held: () => {
      const connections = [...registry.all()]
      return {
        userIds: [...connections.map((c) => c.userId), ...departures.keys(), ...claiming],
        members: connections.flatMap((c) =>
          [...c.joined.keys()].map((room) => ({ room, user: c.username })),
        ),
      }
    },
    // Declared dead and reaped: the partings are out and the users released elsewhere.
    onEvicted: () => void closeAll(CloseCode.serviceRestart, 'instance restarting', false),
    // All at once: the heartbeat waits for this, and one by one, thousands of connections
    // would take long enough for the other instances to judge this one dead.
    onRecordsLost: async () => {
      await Promise.all(
        [...registry.all()].map(async (connection) => {
          if (!(await presence.restoreUser(connection.userId))) {
            // The user connected elsewhere while the records were gone: that one wins.
            void end(connection, CloseCode.serviceRestart, 'instance restarting', false)
            return
          }
          await Promise.all(
            [...connection.joined.keys()].map((room) => presence.join(room, connection.username)),
          )
        }),
      )
    },
  }

  return {
    open,
    /** Ends every connection, e.g. with 1012 on a graceful stop: partings go out first. */
    closeAll,
    presenceHandlers,

    /** Follows logouts (closing their connections) and starts the pings. */
    async start() {
      revocations = options.events.followSessionRevocations((sessionId) => {
        const connection = registry.bySession(sessionId)
        if (!connection) return
        connection.send(LOGGED_OUT)
        void end(connection, CloseCode.normal)
      })
      pings = setInterval(ping, limits.pingIntervalMs)
      pings.unref()
      await revocations.ready
    },

    async stop() {
      clearInterval(pings)
      await revocations?.close()
    },
  }
}

export type ConnectionLifecycle = ReturnType<typeof createConnectionLifecycle>
