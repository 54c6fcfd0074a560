import { setTimeout as sleep } from 'node:timers/promises'
import {
  type Card,
  type CustomNotification,
  ErrorCode,
  FatalCode,
  type ServerFrame,
} from '@finchat/protocol'
import {
  type ApiClient,
  ApiError,
  ChatClient,
  ChatError,
  createApiClient,
} from '@finchat/protocol/client'
import type { FastifyBaseLogger } from 'fastify'
import { Agent } from 'undici'
import { BotStartError, ExitCode } from './bot-start-error.js'

export interface ChatSessionOptions {
  httpUrl: string
  wsUrl: string
  /** How FINBOT_HOST was written, for messages to the operator. */
  host: string
  username: string
  password: string
  /** Rooms to be in; empty means every room the server lists, looked up at each connection. */
  rooms: string[]
  logger: FastifyBaseLogger
  /** For login, the websocket handshake and each join. */
  requestTimeoutMs?: number
  reconnect?: { minMs: number; maxMs: number }
  /** The REST client to log in with; by default one on `httpUrl` with the request timeout. */
  api?: ApiClient
}

export interface ChatSession {
  /** Logs in, connects and joins; rejects with a BotStartError the operator can act on. */
  start(): Promise<void>
  stop(): Promise<void>
  readonly connected: boolean
  /** One of the bot's rooms, joined now or again once it has reconnected. */
  isJoined(room: string): boolean
  /**
   * Posts `body` and resolves once the server echoed it (so it is stored). Waits for a
   * reconnection or a rate limit to pass, but never beyond `deadline` (epoch ms). With a
   * `clientId` the post is safe to repeat, so it is also sent again after a failure or a lost
   * echo (the server stores it once and answers with the original's echo). With a `card`, a
   * server that refuses it (an account not marked as a bot, a server without cards) still gets
   * the text: it is sent again without the card.
   */
  say(room: string, body: string, deadline: number, clientId?: string, card?: Card): Promise<void>
  /** Custom commands other users post in the rooms the bot is in. */
  onCustom(listener: (notification: CustomNotification) => void): void
}

/** Pause before a post under a client id is sent again after a failure. */
const RESEND_AFTER_MS = 250

/** The server answered the handshake with a `fatal` frame. */
class FatalFrameError extends Error {
  constructor(readonly code: string) {
    super(`the chat server answered fatal ${code}`)
  }
}

class NotConnectedError extends Error {
  constructor() {
    super('not connected to the chat server')
  }
}

/**
 * The bot's presence in the chat as an ordinary user: one websocket, opened with a token from
 * REST login. When the connection ends it reconnects with backoff, logs in again if its session
 * was revoked, and joins its rooms again.
 */
export function createChatSession(options: ChatSessionOptions): ChatSession {
  const timeoutMs = options.requestTimeoutMs ?? 5000
  const backoff = options.reconnect ?? { minMs: 250, maxMs: 10_000 }
  const log = options.logger
  const agent = new Agent({
    connectTimeout: timeoutMs,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  })
  const api = options.api ?? createApiClient(options.httpUrl, { dispatcher: agent })
  const customListeners = new Set<(notification: CustomNotification) => void>()
  /** The rooms the bot is in, or returning to while it reconnects. */
  const joined = new Set<string>()
  const stopController = new AbortController()
  let connectedWaiters: Array<() => void> = []
  let token: string | undefined
  let client: ChatClient | undefined
  let reconnecting = false
  /** Set when the server refused a card on this connection: the next answers go without. */
  let cardsRefused = false
  let cardRefusalLogged = false

  async function openSocket(): Promise<ChatClient> {
    token ??= await api.login({ username: options.username, password: options.password })
    const socket = await ChatClient.connect(options.wsUrl, {
      token,
      handshakeTimeoutMs: timeoutMs,
      maxBuffered: 100,
    })
    const first = await socket.next(
      (f) => f.type === 'fatal' || (f.type === 'notification' && f.code === 'api-motd'),
      timeoutMs,
    )
    if (first.type === 'fatal') {
      // A token the server no longer takes (revoked, expired, keys rotated): log in afresh.
      if (first.code === FatalCode.notAuthenticated) token = undefined
      socket.socket.terminate()
      throw new FatalFrameError(first.code)
    }
    return socket
  }

  function onFrame(frame: ServerFrame): void {
    if (frame.type === 'notification' && frame.code === 'logged-out') {
      log.warn('the bot session was logged out; it will log in again')
      token = undefined
    } else if (frame.type === 'room:notification' && frame.you) {
      // Only an administrator deleting the room makes the server part the bot.
      if (frame.code === 'parted') {
        log.warn({ room: frame.room_name }, 'the room was deleted')
        joined.delete(frame.room_name)
      }
    } else if (frame.type === 'room:notification' && frame.code === 'custom') {
      for (const listener of customListeners) listener(frame)
    }
  }

  async function roomsToJoin(socket: ChatClient): Promise<string[]> {
    if (options.rooms.length > 0) return options.rooms
    const answer = socket.next((f) => f.type === 'notification' && f.code === 'list', timeoutMs)
    socket.send({ type: 'list' })
    const list = await answer
    return list.type === 'notification' && list.code === 'list' ? list.list.map((r) => r.name) : []
  }

  /** One connection: socket, then rooms. Resolves with the rooms that do not exist. */
  async function connect(): Promise<string[]> {
    const socket = await openSocket()
    socket.onFrame(onFrame)
    const rooms: string[] = []
    const missing: string[] = []
    try {
      for (const room of await roomsToJoin(socket)) {
        try {
          await socket.join(room, timeoutMs)
          rooms.push(room)
        } catch (error) {
          if (!(error instanceof ChatError)) throw error
          if (error.frame.code === ErrorCode.invalidRoom) missing.push(room)
          else if (error.frame.code === ErrorCode.alreadyJoined) rooms.push(room)
          else throw error
        }
      }
    } catch (error) {
      socket.socket.terminate()
      throw error
    }
    joined.clear()
    for (const room of rooms) joined.add(room)
    // Marking an account as a bot ends its sessions: a new connection may be allowed cards.
    cardsRefused = false
    client = socket
    void socket.closed.then((info) => {
      if (client !== socket) return
      client = undefined
      if (stopController.signal.aborted) return
      log.warn({ code: info.code }, 'chat connection closed; reconnecting')
      void reconnect()
    })
    for (const wake of connectedWaiters) wake()
    connectedWaiters = []
    return missing
  }

  async function reconnect(): Promise<void> {
    if (reconnecting) return
    reconnecting = true
    try {
      for (let attempt = 0; !stopController.signal.aborted; attempt++) {
        const ceiling = Math.min(backoff.maxMs, backoff.minMs * 2 ** attempt)
        try {
          await sleep(ceiling / 2 + Math.random() * (ceiling / 2), undefined, {
            signal: stopController.signal,
          })
          const missing = await connect()
          log.info({ rooms: [...joined], missing }, 'reconnected to the chat server')
          return
        } catch (error) {
          if (stopController.signal.aborted) return
          log.warn({ attempt: attempt + 1, reason: describe(error) }, 'reconnection failed')
        }
      }
    } finally {
      reconnecting = false
    }
  }

  function whenConnected(deadline: number): Promise<ChatClient> {
    if (client) return Promise.resolve(client)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        connectedWaiters = connectedWaiters.filter((w) => w !== wake)
        reject(new NotConnectedError())
      }, deadline - Date.now())
      const wake = () => {
        clearTimeout(timer)
        if (client) resolve(client)
        else reject(new NotConnectedError())
      }
      connectedWaiters.push(wake)
    })
  }

  return {
    async start() {
      let missing: string[]
      try {
        missing = await connect()
      } catch (error) {
        throw startError(error, options)
      }
      for (const room of missing)
        log.warn({ room }, 'FINBOT_ROOMS names a room that does not exist')
      if (joined.size === 0) {
        stopController.abort()
        await client?.close()
        throw new BotStartError(
          options.rooms.length > 0
            ? `none of the rooms in FINBOT_ROOMS exists on the server (${options.rooms.join(', ')})`
            : 'the server has no rooms to join; create one first (pnpm admin rooms add <name>)',
          ExitCode.config,
        )
      }
      log.info({ rooms: [...joined] }, 'the bot is in its rooms')
    },

    async stop() {
      stopController.abort()
      for (const wake of connectedWaiters) wake()
      connectedWaiters = []
      await client?.close()
      await agent.close()
    },

    get connected() {
      return client !== undefined
    },

    isJoined(room) {
      return joined.has(room)
    },

    async say(room, body, deadline, clientId, card) {
      for (;;) {
        const socket = await whenConnected(deadline)
        try {
          const timeout = Math.max(1, deadline - Date.now())
          // Once refused, never again: the account is not a bot's, and the text is the answer.
          await socket.say(room, body, timeout, clientId, cardsRefused ? undefined : card)
          return
        } catch (error) {
          if (card !== undefined && !cardsRefused && isCardRefusal(error)) {
            cardsRefused = true
            if (!cardRefusalLogged) {
              cardRefusalLogged = true
              log.warn(
                { code: error.frame.code, room },
                `the server refused the bot's card; answers go as text alone (an administrator can mark the account as a bot: pnpm admin users mark-bot ${options.username})`,
              )
            }
            continue
          }
          const rateLimited =
            error instanceof ChatError && error.frame.code === ErrorCode.rateLimited
              ? error.frame.details.retry_after_ms
              : undefined
          // Without a client id only a refused send is retried: after a send whose echo was
          // lost nobody knows whether it was stored, and answering twice is worse than not at
          // all. With one, a repeat cannot store twice: any failure is worth another try.
          const retryAfter = rateLimited ?? (clientId === undefined ? undefined : RESEND_AFTER_MS)
          if (retryAfter === undefined || Date.now() + retryAfter >= deadline) throw error
          await sleep(retryAfter)
        }
      }
    },

    onCustom(listener) {
      customListeners.add(listener)
    },
  }
}

/** `room:card-not-allowed` (not a bot account) and `room:invalid-card`. */
const CARD_REFUSALS: ReadonlySet<string> = new Set(['room:card-not-allowed', 'room:invalid-card'])

/** The server would not take the card; the same message without it would do. */
function isCardRefusal(error: unknown): error is ChatError {
  return error instanceof ChatError && CARD_REFUSALS.has(error.frame.code)
}

function startError(error: unknown, options: ChatSessionOptions): BotStartError {
  const who = `"${options.username}"`
  if (error instanceof ApiError) {
    if (error.status === 400) {
      return new BotStartError(
        `login refused for ${who}: wrong FINBOT_USERNAME or FINBOT_PASSWORD`,
        ExitCode.credentials,
      )
    }
    if (error.status === 429) {
      return new BotStartError(
        `login refused for ${who}: too many failed attempts, try again later`,
        ExitCode.unavailable,
      )
    }
    return new BotStartError(
      `login at ${options.httpUrl}/login failed: the server answered ${error.status}`,
      ExitCode.unavailable,
    )
  }
  if (error instanceof FatalFrameError) {
    if (error.code === FatalCode.alreadyChatting) {
      return new BotStartError(
        `the account ${who} is already chatting elsewhere (already-chatting); give each bot its own account`,
        ExitCode.inUse,
      )
    }
    return new BotStartError(
      `the chat server refused the bot's fresh token (${error.code}): do auth and chat share signing keys?`,
      ExitCode.unavailable,
    )
  }
  return new BotStartError(
    `cannot reach the chat server at FINBOT_HOST=${options.host}: ${describe(error)}`,
    ExitCode.unavailable,
  )
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const code = (error as { code?: unknown }).code
  const cause = (error as { cause?: { code?: unknown } }).cause?.code
  const name = typeof code === 'string' ? code : typeof cause === 'string' ? cause : undefined
  return name && !error.message.includes(name) ? `${name} ${error.message}` : error.message
}
