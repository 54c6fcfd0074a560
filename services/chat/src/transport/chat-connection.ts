import type { Duplex } from 'node:stream'
import type { Session } from '@finchat/sessions'
import type { WebSocket } from 'ws'
import type { JoinedRoom, Member } from '../domain/member.js'
import type { Recipient } from '../events/room-dispatch.js'
import { type RateLimit, TokenBucket } from './token-bucket.js'

let nextConnectionId = 0

/**
 * One user's websocket: a member for the commands, a recipient for the room events. Frames out
 * are written in the order they were handed over, even when one of them (the joiner's own
 * `joined`, with its status) is still being computed.
 */
export class ChatConnection implements Member, Recipient {
  readonly id = `c${++nextConnectionId}`
  /** Rooms the user has joined, as far as commands are concerned. */
  readonly joined = new Map<string, JoinedRoom>()
  /** Whether a pong came back since the last ping. */
  alive = true
  /** Set once the connection is being let go, so that it is let go once. */
  released?: Promise<void>
  /** The frames being handled, one after another, so a user's messages keep their order. */
  private work: Promise<void> = Promise.resolve()
  private readonly bucket: TokenBucket
  private pending: (string | Buffer | Promise<string | null>)[] | null = null
  private closing = false
  private corked = false
  /**
   * The TCP socket under the websocket, for prepared frames. `ws` writes its own frames to it
   * synchronously too (no compression is negotiated), so both kinds keep their order.
   */
  private readonly raw: Duplex

  constructor(
    readonly socket: WebSocket,
    readonly session: Session,
    readonly viaToken: boolean,
    rateLimit: RateLimit,
    private readonly maxBufferedBytes: number,
    private readonly onSlow: (connection: ChatConnection) => void,
  ) {
    this.bucket = new TokenBucket(rateLimit)
    this.raw = (socket as unknown as { _socket: Duplex })._socket
  }

  get username() {
    return this.session.username
  }

  get userId() {
    return this.session.userId
  }

  get isBot() {
    return this.session.isBot
  }

  enqueue(task: () => Promise<void>) {
    // Frames still waiting when the connection goes are dropped: the user is gone.
    this.work = this.work.then(() => (this.released ? undefined : task()))
  }

  /** Resolves when the frame being handled is done, so that partings follow its effects. */
  settled() {
    return this.work
  }

  /** 0 when the frame may be handled, else the milliseconds until it would be. */
  takeAllowance() {
    return this.bucket.take()
  }

  send(frame: string) {
    if (this.pending) this.pending.push(frame)
    else this.write(frame)
  }

  /**
   * Sends a complete websocket frame built once for all its recipients (`textFrame`). Frames
   * sent in the same tick leave in one write: a batch of room events costs each recipient one
   * system call, not one per event.
   */
  sendPrepared(frame: Buffer) {
    if (this.pending) this.pending.push(frame)
    else this.write(frame)
  }

  /** Queues a frame computed later; everything sent after it waits for it. null sends nothing. */
  sendLater(frame: Promise<string | null>) {
    if (this.pending) {
      this.pending.push(frame)
      return
    }
    this.pending = [frame]
    void this.drain()
  }

  private async drain() {
    const queue = this.pending
    if (!queue) return
    while (queue.length > 0) {
      const next = queue[0] as string | Buffer | Promise<string | null>
      const frame = next instanceof Promise ? await next.catch(() => null) : next
      queue.shift()
      if (frame !== null) this.write(frame)
    }
    this.pending = null
  }

  private write(frame: string | Buffer) {
    if (this.closing || this.socket.readyState !== this.socket.OPEN) return
    // A client that does not read must not make the server hold its backlog.
    if (this.socket.bufferedAmount > this.maxBufferedBytes) {
      this.closing = true
      this.onSlow(this)
      return
    }
    if (typeof frame === 'string') {
      this.socket.send(frame)
      return
    }
    if (!this.corked) {
      this.corked = true
      this.raw.cork()
      process.nextTick(() => {
        this.corked = false
        this.raw.uncork()
      })
    }
    this.raw.write(frame)
  }

  close(code: number, reason = '') {
    this.closing = true
    if (this.socket.readyState === this.socket.OPEN) this.socket.close(code, reason)
  }
}
