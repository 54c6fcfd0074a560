import { createHash, randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import type { ErrorFrame, JoinedNotification } from '@finchat/protocol'
import { FrameWaiters } from '@finchat/protocol/client'

/**
 * A received frame as `JSON.parse` gives it: the load generator reads the few fields it counts
 * and validates nothing, since checking the servers' frames is the tests' job, not the
 * benchmark's, and every microsecond spent per frame here is taken from the servers it measures.
 */
export interface ReceivedFrame {
  type?: string
  code?: string
  you?: boolean
  room_name?: string
  body?: string
  details?: { name?: unknown }
  [field: string]: unknown
}

const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
const MAX_HANDSHAKE_BYTES = 16 * 1024
const OPCODE = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const
/**
 * One read buffer for every connection (`onread`): Node reads into it and calls back at once,
 * one socket at a time, so no read allocates and nothing in it outlives its callback (bytes of
 * a frame cut by the read's end are copied out).
 */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024)

/**
 * One chat connection of the load generator: a websocket client of its own on a `net` socket
 * read through `onread`. The `ws` client costs about as much CPU per frame received as the
 * baseline server spends sending it (its socket stream, receiver stream and events per read, on
 * this 2-CPU machine about 15 µs a delivery either way), so the generator took half of the CPU it
 * meant to measure. Here a read is parsed in place: frames are cut out of the buffer, every text
 * frame is parsed with `JSON.parse` and handed to `onFrame` (and to a waiting `next` during
 * setup), and nothing is kept. Speaks RFC 6455 as far as the chat servers use it: text frames
 * (fragmented or not), ping (answered), close; no extension is offered.
 */
export class LeanClient {
  /** Called with every frame received, as parsed; one slot, swapped by the measuring code. */
  onFrame: ((frame: ReceivedFrame) => void) | undefined
  /** Settles when the connection ends, however it ends, with the close code received (1006 if none). */
  readonly closed: Promise<{ code: number }>
  private readonly waiters = new FrameWaiters<ReceivedFrame>()
  private ended = false
  private closeSent = false
  private closeCode = 1006
  /** Until the 101 answer: the response's bytes so far, and what to do with it. */
  private upgrade:
    | { head: string; accept: string; resolve(): void; reject(error: Error): void }
    | undefined
  /** The start of a frame the last read cut off, copied out of the shared read buffer. */
  private pending: Buffer | undefined
  /** The payloads of a fragmented text message so far. */
  private fragments: Buffer[] | undefined

  private constructor(readonly socket: Socket) {
    // The 'close' event that follows every 'error' reports the end; without a listener the
    // error would be thrown and crash the process.
    socket.on('error', () => {})
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.ended = true
        this.upgrade?.reject(new Error('connection closed during the websocket handshake'))
        this.waiters.rejectAll(`connection closed (${this.closeCode}) before the expected frame`)
        resolve({ code: this.closeCode })
      })
    })
  }

  /**
   * Connects with the token in the query, as the benchmark's clients always have, and resolves
   * once the server's MOTD notification has arrived (the connection is then fully set up).
   */
  static async connect(url: string, token: string, timeoutMs: number): Promise<LeanClient> {
    const target = new URL(url)
    target.searchParams.set('token', token)
    const key = randomBytes(16).toString('base64')
    let client: LeanClient | undefined
    const socket = connect({
      host: target.hostname,
      port: Number(target.port || 80),
      onread: {
        buffer: READ_BUFFER,
        callback: (bytes: number, buffer: Uint8Array) => {
          client?.read(buffer as Buffer, bytes)
          return true
        },
      },
    })
    // Latency is what is measured: no frame waits for the previous one's acknowledgement.
    socket.setNoDelay(true)
    client = new LeanClient(socket)
    const upgraded = new Promise<void>((resolve, reject) => {
      const accept = createHash('sha1').update(`${key}${WEBSOCKET_GUID}`).digest('base64')
      ;(client as LeanClient).upgrade = { head: '', accept, resolve, reject }
    })
    // Waiting from before the upgrade, since the MOTD may come in the same read as the 101.
    const motd = client.next(
      (frame) => frame.type === 'notification' && frame.code === 'api-motd',
      timeoutMs,
    )
    motd.catch(() => {})
    socket.once('connect', () => {
      socket.write(
        `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      )
    })
    const timer = setTimeout(() => socket.destroy(), timeoutMs)
    try {
      await upgraded
      await motd
    } catch (error) {
      socket.destroy()
      throw error
    } finally {
      clearTimeout(timer)
    }
    return client
  }

  /** Sends a text frame. */
  send(text: string): void {
    if (this.ended || this.closeSent) return
    const length = Buffer.byteLength(text)
    const header = length < 126 ? 2 : length < 65_536 ? 4 : 10
    const frame = Buffer.allocUnsafe(header + 4 + length)
    writeHeader(frame, OPCODE.text, length)
    frame.write(text, header + 4)
    this.socket.write(frame)
  }

  /** The next frame `accept` takes; rejects after `timeoutMs` or if the connection ends first. */
  next(accept: (frame: ReceivedFrame) => boolean, timeoutMs: number): Promise<ReceivedFrame> {
    if (this.ended) return Promise.reject(new Error('connection closed'))
    return this.waiters.wait(accept, timeoutMs)
  }

  /**
   * Joins `room` and resolves with the own `joined` notification (the one with the room's
   * status and history); an error frame naming this room, or no room, rejects.
   */
  async join(room: string, timeoutMs: number): Promise<JoinedNotification> {
    const answer = this.next(
      (f) =>
        (f.type === 'room:notification' &&
          f.code === 'joined' &&
          f.you === true &&
          f.room_name === room) ||
        (f.type === 'error' && (f.details?.name === undefined || f.details.name === room)),
      timeoutMs,
    )
    this.send(JSON.stringify({ type: 'join', room_name: room }))
    const frame = await answer
    if (frame.type === 'error') {
      throw new Error(
        `join ${room}: server answered ${JSON.stringify(frame as unknown as ErrorFrame)}`,
      )
    }
    return frame as unknown as JoinedNotification
  }

  /** Starts the closing handshake, cutting the connection off if it goes unanswered. */
  async close(timeoutMs: number): Promise<void> {
    if (this.ended) return
    const timer = setTimeout(() => this.socket.destroy(), timeoutMs)
    this.sendClose(1000)
    await this.closed
    clearTimeout(timer)
  }

  private sendClose(code: number): void {
    if (this.closeSent || this.ended) return
    this.closeSent = true
    const frame = Buffer.allocUnsafe(2 + 4 + 2)
    writeHeader(frame, OPCODE.close, 2)
    frame.writeUInt16BE(code, 6)
    this.socket.write(frame)
  }

  /** Closes with `code` because of what the server sent, as `ws` would. */
  private fail(code: number): void {
    this.closeCode = code
    this.sendClose(code)
    this.socket.end()
    this.ended = true
  }

  /** `bytes` bytes read into the shared `buffer`. */
  private read(buffer: Buffer, bytes: number): void {
    if (this.ended) return
    if (this.upgrade) {
      this.readHandshake(buffer, bytes)
      return
    }
    let data = buffer.subarray(0, bytes)
    if (this.pending) {
      data = Buffer.concat([this.pending, data])
      this.pending = undefined
    }
    let offset = 0
    while (!this.ended) {
      const available = data.length - offset
      if (available < 2) break
      const first = data[offset] as number
      const second = data[offset + 1] as number
      // A server's frames are never masked (RFC 6455, 5.1).
      if (second & 0x80) {
        this.fail(1002)
        return
      }
      let length = second & 0x7f
      let header = 2
      if (length === 126) {
        if (available < 4) break
        length = data.readUInt16BE(offset + 2)
        header = 4
      } else if (length === 127) {
        if (available < 10) break
        length = data.readUIntBE(offset + 4, 6)
        header = 10
      }
      if (available < header + length) break
      const start = offset + header
      offset = start + length
      this.frame(first & 0x0f, (first & 0x80) !== 0, data, start, offset)
    }
    // Copied: the read buffer is the next read's.
    if (offset < data.length && !this.ended) this.pending = Buffer.from(data.subarray(offset))
  }

  private readHandshake(buffer: Buffer, bytes: number): void {
    const upgrade = this.upgrade as NonNullable<LeanClient['upgrade']>
    upgrade.head += buffer.toString('latin1', 0, bytes)
    const end = upgrade.head.indexOf('\r\n\r\n')
    if (end === -1) {
      if (upgrade.head.length > MAX_HANDSHAKE_BYTES) {
        this.upgrade = undefined
        upgrade.reject(new Error('websocket handshake: no end of headers'))
        this.socket.destroy()
      }
      return
    }
    const [status = '', ...lines] = upgrade.head.slice(0, end).split('\r\n')
    const accept = lines
      .find((line) => line.toLowerCase().startsWith('sec-websocket-accept:'))
      ?.slice('sec-websocket-accept:'.length)
      .trim()
    this.upgrade = undefined
    if (!/^HTTP\/1\.1 101 /.test(status) || accept !== upgrade.accept) {
      upgrade.reject(new Error(`websocket handshake refused: ${status}`))
      this.socket.destroy()
      return
    }
    upgrade.resolve()
    // Frames the server sent right after its answer, in the same read.
    const rest = Buffer.from(upgrade.head.slice(end + 4), 'latin1')
    if (rest.length > 0) this.read(rest, rest.length)
  }

  private frame(opcode: number, fin: boolean, data: Buffer, start: number, end: number): void {
    if (opcode === OPCODE.text && fin && !this.fragments) {
      this.message(data.toString('utf8', start, end))
    } else if (opcode === OPCODE.text || (opcode === OPCODE.continuation && this.fragments)) {
      this.fragments = [...(this.fragments ?? []), Buffer.from(data.subarray(start, end))]
      if (fin) {
        const text = Buffer.concat(this.fragments).toString('utf8')
        this.fragments = undefined
        this.message(text)
      }
    } else if (opcode === OPCODE.ping) {
      const payload = data.subarray(start, end)
      const pong = Buffer.allocUnsafe(2 + 4 + payload.length)
      writeHeader(pong, OPCODE.pong, payload.length)
      payload.copy(pong, 6)
      this.socket.write(pong)
    } else if (opcode === OPCODE.close) {
      this.closeCode = end - start >= 2 ? data.readUInt16BE(start) : 1005
      this.sendClose(this.closeCode)
      this.socket.end()
      this.ended = true
    } else if (opcode !== OPCODE.pong) {
      // Binary frames, or a continuation of nothing: not what the chat protocol sends.
      this.fail(opcode === OPCODE.binary ? 1003 : 1002)
    }
  }

  private message(text: string): void {
    let frame: ReceivedFrame
    try {
      frame = JSON.parse(text)
    } catch {
      // A frame that is not JSON would go uncounted silently: close loudly instead, which
      // counts as an error (a lost connection).
      this.fail(1007)
      return
    }
    if (this.waiters.size > 0) this.waiters.offer(frame)
    this.onFrame?.(frame)
  }
}

/**
 * A client frame's header for a payload of `length` bytes, final, with a masking key of zeros:
 * the payload then goes as it is, without a pass over every byte. The key is there to stop a
 * browser's page from steering what a proxy sees; this client runs no one else's code.
 */
function writeHeader(frame: Buffer, opcode: number, length: number): void {
  frame[0] = 0x80 | opcode
  let offset = 2
  if (length < 126) {
    frame[1] = 0x80 | length
  } else if (length < 65_536) {
    frame[1] = 0x80 | 126
    frame.writeUInt16BE(length, 2)
    offset = 4
  } else {
    frame[1] = 0x80 | 127
    frame.writeUInt32BE(0, 2)
    frame.writeUInt32BE(length, 6)
    offset = 10
  }
  frame.writeUInt32BE(0, offset)
}
