import WebSocket from 'ws'
import type { Card } from '../cards.js'
import type { ClientFrame, MessageFrame } from '../ws-client-frames.js'
import type {
  ErrorFrame,
  JoinedNotification,
  MessageNotification,
  ServerFrame,
} from '../ws-server-frames.js'
import { FrameWaiters } from './frame-waiters.js'

export interface ChatConnectOptions {
  token?: string
  /** Where the token travels; the header is the default because URLs end up in logs. */
  tokenIn?: 'header' | 'query'
  headers?: Record<string, string>
  origin?: string
  handshakeTimeoutMs?: number
  /**
   * How many frames `frames` and the unconsumed inbox keep (each drops its oldest beyond it),
   * so that a long-running bot or load generator does not grow without bound. Default 10 000.
   */
  maxBuffered?: number
  /** False: the server's pings go unanswered, as from a peer that vanished (liveness tests). */
  autoPong?: boolean
}

export interface CloseInfo {
  code: number
  reason: string
}

/** The server answered a request helper (`join`, `say`) with an error frame. */
export class ChatError extends Error {
  override readonly name = 'ChatError'

  constructor(readonly frame: ErrorFrame) {
    super(`server answered ${JSON.stringify(frame)}`)
  }
}

type Predicate = (frame: ServerFrame) => boolean

const DEFAULT_TIMEOUT_MS = 5000

/**
 * A chat connection for tests, bots and load generators. Every received frame is parsed once
 * and offered first to pending `next` calls, in call order; a frame none of them wants waits in
 * an inbox for a later `next`, so nothing is missed between calls.
 */
export class ChatClient {
  /** Every frame received (up to `maxBuffered` of the latest), for assertions. */
  readonly frames: ServerFrame[] = []
  /** Settles when the connection ends, however it ends. */
  readonly closed: Promise<CloseInfo>
  private readonly inbox: ServerFrame[] = []
  private readonly waiters = new FrameWaiters<ServerFrame>()
  private readonly listeners = new Set<(frame: ServerFrame) => void>()
  private closeInfo: CloseInfo | undefined

  private constructor(
    /** The underlying socket, for what this class does not cover (pings, terminate). */
    readonly socket: WebSocket,
    private readonly maxBuffered: number,
  ) {
    socket.on('message', (data, isBinary) => this.receive(data, isBinary))
    // The 'close' event that follows every 'error' reports the end; without a listener the
    // error would be thrown and crash the process.
    socket.on('error', () => {})
    this.closed = new Promise((resolve) => {
      socket.once('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() }
        this.waiters.rejectAll(`connection closed (${code}) before a matching frame arrived`)
        resolve(this.closeInfo)
      })
    })
  }

  /** Resolves once the websocket is open; rejects if the handshake fails. */
  static connect(url: string | URL, options: ChatConnectOptions = {}): Promise<ChatClient> {
    const target = new URL(url)
    const headers = { ...options.headers }
    if (options.token !== undefined) {
      if (options.tokenIn === 'query') target.searchParams.set('token', options.token)
      else headers.authorization = `Token ${options.token}`
    }
    const socket = new WebSocket(target, {
      headers,
      origin: options.origin,
      handshakeTimeout: options.handshakeTimeoutMs,
      autoPong: options.autoPong ?? true,
    })
    // Built before 'open' so that frames sent right after the handshake (MOTD, fatal) are kept.
    const client = new ChatClient(socket, options.maxBuffered ?? 10_000)
    return new Promise((resolve, reject) => {
      const onOpen = () => {
        socket.off('error', onError)
        resolve(client)
      }
      const onError = (error: Error) => {
        socket.off('open', onOpen)
        reject(error)
      }
      socket.once('open', onOpen)
      socket.once('error', onError)
    })
  }

  send(frame: ClientFrame): void {
    this.socket.send(JSON.stringify(frame))
  }

  /** Sends anything, valid or not, as a text frame (or a binary one). */
  sendRaw(data: string | Buffer, binary = false): void {
    this.socket.send(data, { binary })
  }

  /**
   * Takes the oldest queued frame matching `predicate` (any frame without one), or waits for
   * the next matching one. Rejects after `timeoutMs`, or when the connection closes first.
   */
  next<T extends ServerFrame>(
    predicate: (frame: ServerFrame) => frame is T,
    timeoutMs?: number,
  ): Promise<T>
  next(predicate?: Predicate, timeoutMs?: number): Promise<ServerFrame>
  async next(
    predicate: Predicate = () => true,
    timeoutMs = DEFAULT_TIMEOUT_MS,
  ): Promise<ServerFrame> {
    const index = this.inbox.findIndex(predicate)
    if (index !== -1) return this.inbox.splice(index, 1)[0] as ServerFrame
    return this.wait(predicate, timeoutMs)
  }

  /**
   * Calls `listener` with every frame that arrives from now on, consumed or not; earlier ones
   * are in `frames`. Returns the unsubscribe function.
   */
  onFrame(listener: (frame: ServerFrame) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Joins `room` and resolves with the own `joined` notification (the one with `status`). */
  join(room: string, timeoutMs?: number): Promise<JoinedNotification> {
    return this.request(
      { type: 'join', room_name: room },
      (f): f is JoinedNotification =>
        f.type === 'room:notification' && f.code === 'joined' && f.you && f.room_name === room,
      room,
      timeoutMs,
    )
  }

  /**
   * Posts `body` to `room` and resolves with its own echo (`you: true`), id and stamp included.
   * With `clientId` (extension) the send is safe to repeat: sent again, it is answered with the
   * original's echo, nothing stored twice; an error naming another message's client id is not
   * this one's answer. With `card` (extension; bot accounts only) the message carries it.
   */
  say(
    room: string,
    body: string,
    timeoutMs?: number,
    clientId?: string,
    card?: Card,
  ): Promise<MessageNotification> {
    const frame: MessageFrame = { type: 'message', room_name: room, body }
    if (clientId !== undefined) frame.client_id = clientId
    if (card !== undefined) frame.card = card
    return this.request(
      frame,
      (f): f is MessageNotification =>
        f.type === 'room:notification' &&
        f.code === 'message' &&
        f.you &&
        f.room_name === room &&
        (clientId === undefined || f.client_id === clientId),
      room,
      timeoutMs,
      clientId,
    )
  }

  /** Starts the closing handshake; resolves like `closed`. */
  close(code = 1000, reason = ''): Promise<CloseInfo> {
    if (this.closeInfo === undefined) this.socket.close(code, reason)
    return this.closed
  }

  /**
   * Sends `frame` and waits for its answer among frames that arrive after it, so a stale queued
   * frame cannot pass for it. Frames carry no request ids, so an error frame counts as the
   * answer when it names this room or names none.
   */
  private async request<T extends ServerFrame>(
    frame: ClientFrame,
    isAnswer: (frame: ServerFrame) => frame is T,
    room: string,
    timeoutMs = DEFAULT_TIMEOUT_MS,
    clientId?: string,
  ): Promise<T> {
    const answer = this.wait((f) => isAnswer(f) || isErrorFor(f, room, clientId), timeoutMs)
    this.send(frame)
    const received = await answer
    if (received.type === 'error') throw new ChatError(received)
    return received as T
  }

  private wait(predicate: Predicate, timeoutMs: number): Promise<ServerFrame> {
    if (this.closeInfo !== undefined) {
      const { code } = this.closeInfo
      return Promise.reject(new Error(`connection closed (${code}); no matching frame queued`))
    }
    return this.waiters.wait(
      predicate,
      timeoutMs,
      () => `no matching frame within ${timeoutMs} ms; ${this.describeInbox()}`,
    )
  }

  private receive(data: WebSocket.RawData, isBinary: boolean): void {
    let frame: ServerFrame
    try {
      if (isBinary) throw new Error('binary frame')
      frame = JSON.parse(data.toString())
    } catch {
      // 1007: the payload does not fit the agreed format. Closing makes a broken server loud
      // in tests instead of a frame silently going missing.
      this.socket.close(1007, 'expected a JSON text frame')
      return
    }
    push(this.frames, frame, this.maxBuffered)
    for (const listener of this.listeners) listener(frame)
    if (this.waiters.offer(frame)) return
    push(this.inbox, frame, this.maxBuffered)
  }

  private describeInbox(): string {
    const last = this.inbox.at(-1)
    if (last === undefined) return 'nothing unconsumed queued'
    const text = JSON.stringify(last)
    const shown = text.length > 300 ? `${text.slice(0, 300)}...` : text
    return `${this.inbox.length} unconsumed frame(s) queued, the latest ${shown}`
  }
}

/**
 * Whether an error frame answers a request in `room`: it names that room or none, and, for a
 * message sent with a client id, names that one or none (message errors carry the message's).
 */
function isErrorFor(frame: ServerFrame, room: string, clientId?: string): frame is ErrorFrame {
  if (frame.type !== 'error') return false
  const details: Record<string, unknown> | undefined =
    'details' in frame ? frame.details : undefined
  const named = (frame as { client_id?: unknown }).client_id
  const forRoom = details?.name === undefined || details.name === room
  return forRoom && (clientId === undefined || named === undefined || named === clientId)
}

function push(list: ServerFrame[], frame: ServerFrame, max: number): void {
  list.push(frame)
  if (list.length > max) list.shift()
}
