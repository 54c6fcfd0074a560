import type { IncomingMessage, ServerResponse } from 'node:http'
import { CloseCode, ErrorCode, FatalCode, MOTD_TEXT, parseClientFrame } from '@finchat/protocol'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { RawData, WebSocket } from 'ws'
import type { Presence } from '../presence/presence.js'
import { ChatConnection } from './chat-connection.js'
import type { CommandHandler } from './command-handler.js'
import type { ConnectionRegistry } from './connection-registry.js'
import type { HandshakeResult } from './handshake-auth.js'
import type { RateLimit } from './token-bucket.js'

export interface ChatSocketOptions {
  registry: ConnectionRegistry
  commands: CommandHandler
  presence: Presence
  authenticate(request: FastifyRequest): Promise<HandshakeResult>
  rateLimit: RateLimit
  maxBufferedBytes: number
  /** Ends a connection for good: leaves its rooms, then frees the user. Idempotent. */
  release(connection: ChatConnection): Promise<void>
  /** Resolves once the user's previous connection on this instance, if going, has let go. */
  departed(username: string, userId: number): Promise<void>
  onConnectionCount(count: number): void
}

const fatal = (code: string) => JSON.stringify({ type: 'fatal', code })
const MOTD = JSON.stringify({ type: 'notification', code: 'api-motd', content: MOTD_TEXT })
const NOT_AN_UPGRADE = {
  detail: 'This endpoint speaks WebSocket: connect with an Upgrade request.',
}

function endWithFatal(socket: WebSocket, code: string) {
  socket.send(fatal(code))
  socket.close(CloseCode.normal)
}

/** `/ws/chat` (and `/ws/chat/`): the chat protocol over one websocket per user. */
export async function chatSocketRoutes(app: FastifyInstance, options: ChatSocketOptions) {
  const { registry, commands, presence } = options

  /** The upgrade's HTTP response, by request, until the websocket it became is open. */
  const upgrades = new WeakMap<IncomingMessage, ServerResponse>()

  /**
   * Lets go of what the upgrade request was: @fastify/websocket leaves its response assigned to
   * the TCP socket and its own error listener (holding request and reply) on the websocket, so
   * every open connection kept the request, its headers, the token-bearing URL and the reply
   * (about 3 KiB each, in a heap snapshot). The listener only logged and terminated the socket,
   * which `ws` does itself on an error; ours below logs.
   */
  function forgetUpgrade(socket: WebSocket, request: FastifyRequest) {
    socket.removeAllListeners('error')
    upgrades.get(request.raw)?.detachSocket(request.raw.socket)
    upgrades.delete(request.raw)
  }

  /** A client that does not read is let go rather than have the server hold its backlog. */
  function onSlow(slow: ChatConnection) {
    app.log.warn({ user: slow.username }, 'closing a slow consumer')
    slow.close(CloseCode.slowConsumer, 'slow consumer')
    void options.release(slow)
  }

  // Frames carry no request ids: every answer, errors included, keeps the frames' order.
  const answer = (connection: ChatConnection, frame: string) =>
    connection.enqueue(async () => connection.send(frame))

  function handleFrame(connection: ChatConnection, data: RawData, isBinary: boolean) {
    const waitMs = connection.takeAllowance()
    if (waitMs > 0) {
      answer(
        connection,
        JSON.stringify({
          type: 'error',
          code: ErrorCode.rateLimited,
          details: { retry_after_ms: waitMs },
        }),
      )
      return
    }
    const parsed = parseClientFrame(
      Array.isArray(data)
        ? Buffer.concat(data)
        : data instanceof ArrayBuffer
          ? Buffer.from(data)
          : data,
      isBinary,
    )
    if (!parsed.ok) {
      answer(connection, JSON.stringify(parsed.error))
      return
    }
    connection.enqueue(() => commands.handle(connection, parsed.frame))
  }

  async function open(socket: WebSocket, request: FastifyRequest) {
    forgetUpgrade(socket, request)
    // The listeners below live as long as the socket and share one scope: it keeps only what
    // they use (not the request, nor its logger, which would cost every open connection).
    const reqId = request.id
    let connection: ChatConnection | undefined
    // Frames may arrive while the handshake is checked: keep them, in order, for afterwards.
    let early: [RawData, boolean][] | undefined
    socket.on('message', (data, isBinary) => {
      if (connection) handleFrame(connection, data, isBinary)
      else if (early) early.push([data, isBinary])
      else early = [[data, isBinary]]
    })
    socket.on('error', (err) => app.log.debug({ reqId, err }, 'websocket error'))

    let auth: HandshakeResult
    try {
      auth = await options.authenticate(request)
    } catch (err) {
      // The revocation list is unreachable: not the client's fault, so no `fatal`.
      request.log.warn({ err }, 'could not verify a websocket token')
      return socket.close(1013, 'try again later')
    }
    if (auth.kind === 'refused') return endWithFatal(socket, FatalCode.notAuthenticated)
    const { session } = auth
    // A user reconnecting right after a close finds the old connection still letting go here:
    // wait for it instead of refusing a user who has no live connection any more.
    await options.departed(session.username, session.userId)
    if (registry.byUsername(session.username) || !(await presence.claimUser(session.userId))) {
      return endWithFatal(socket, FatalCode.alreadyChatting)
    }
    const opened = new ChatConnection(
      socket,
      session,
      auth.viaToken,
      options.rateLimit,
      options.maxBufferedBytes,
      onSlow,
    )
    if (socket.readyState !== socket.OPEN) {
      await presence.releaseUser(session.userId)
      return
    }
    registry.add(opened)
    options.onConnectionCount(registry.size)
    socket.on('close', () => void options.release(opened))
    socket.on('pong', () => {
      opened.alive = true
    })
    if (auth.viaToken) opened.send(MOTD)
    connection = opened
    const waiting = early ?? []
    early = undefined
    for (const [data, isBinary] of waiting) handleFrame(opened, data, isBinary)
  }

  for (const url of ['/ws/chat', '/ws/chat/']) {
    app.route({
      method: 'GET',
      url,
      handler: async (_request, reply) => reply.code(400).send(NOT_AN_UPGRADE),
      onRequest: (request, reply, done) => {
        if (request.ws) upgrades.set(request.raw, reply.raw)
        done()
      },
      wsHandler: (socket, request) => {
        open(socket, request).catch((err) => {
          request.log.error({ err }, 'websocket setup failed')
          socket.close(1011, 'internal error')
        })
      },
    })
  }
}
