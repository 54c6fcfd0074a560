import type { ServerFrame } from '@finchat/protocol'
import { ChatClient } from '@finchat/protocol/client'
import * as hdr from 'hdr-histogram-js'

export interface FanoutOptions {
  /** Clients are spread over these, in turn. */
  wsUrls: string[]
  /** One credential per client (sent as `?token=`); the first rooms × clientsPerRoom are used. */
  tokens: string[]
  rooms: number
  clientsPerRoom: number
}

export interface FanoutRun {
  /** Messages per second per client. */
  ratePerClient: number
  /** The measured window: only messages sent in it are counted, sent and delivered. */
  durationMs: number
  /** Sending before the window opens, uncounted (a join storm needs history in the rooms). */
  warmupMs?: number
  /** Time after the last send for the last deliveries to arrive. */
  drainMs?: number
}

export interface LatencySummary {
  p50: number
  p95: number
  p99: number
  max: number
}

export interface FanoutResult {
  clients: number
  sent: number
  deliveries: number
  /** Expected minus received deliveries (every member gets every message, the sender too). */
  loss: number
  /** Error frames and connections lost, from the first send to the end of the drain. */
  errors: number
  sentPerSecond: number
  deliveriesPerSecond: number
  /** Milliseconds, from the send timestamp in the body to the recipient's receipt. */
  latency: LatencySummary
}

/** Connected clients, joined to their rooms, that can be made to send more than once. */
export interface FanoutLoad {
  /** False once a client has lost its connection: later runs would count it as loss. */
  intact(): boolean
  run(run: FanoutRun): Promise<FanoutResult>
  close(): Promise<void>
}

const SETUP_TIMEOUT_MS = 30_000
const CLOSE_TIMEOUT_MS = 5_000
// Due sends are worked out every tick from the elapsed time, so a late tick catches up
// instead of the load quietly easing off when the system under test slows down.
const TICK_MS = 1

export const now = () => performance.timeOrigin + performance.now()

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Latencies in milliseconds, kept to the microsecond. */
export function latencyHistogram() {
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000 })
  return {
    record(ms: number) {
      histogram.recordValue(Math.max(1, Math.round(ms * 1000)))
    },
    summary(): LatencySummary {
      const ms = (percentile: number) => histogram.getValueAtPercentile(percentile) / 1000
      return { p50: ms(50), p95: ms(95), p99: ms(99), max: histogram.maxValue / 1000 }
    },
  }
}

/**
 * One client per token, spread over `wsUrls`, each past the MOTD and, with `roomOf`, joined to
 * its room; `batch` connect at a time. If one fails, those already connected are closed.
 */
export async function connectClients(
  wsUrls: string[],
  tokens: string[],
  options: { roomOf?: (index: number) => string; batch?: number } = {},
): Promise<ChatClient[]> {
  const batch = options.batch ?? 50
  const clients: ChatClient[] = []
  try {
    for (let from = 0; from < tokens.length; from += batch) {
      const settled = await Promise.allSettled(
        tokens.slice(from, from + batch).map(async (token, k) => {
          const index = from + k
          const client = await ChatClient.connect(wsUrls[index % wsUrls.length] as string, {
            token,
            tokenIn: 'query',
            handshakeTimeoutMs: SETUP_TIMEOUT_MS,
            // Nothing reads the frames kept: keep few of them.
            maxBuffered: 10,
          })
          clients[index] = client
          await client.next(
            (f) => f.type === 'notification' && f.code === 'api-motd',
            SETUP_TIMEOUT_MS,
          )
          if (options.roomOf) await client.join(options.roomOf(index), SETUP_TIMEOUT_MS)
        }),
      )
      const failure = settled.find((outcome) => outcome.status === 'rejected')
      if (failure) throw failure.reason
    }
    return clients
  } catch (error) {
    await closeClients(clients.filter(Boolean))
    throw error
  }
}

/** Closes every client, cutting off any whose closing handshake goes unanswered. */
export async function closeClients(clients: ChatClient[]): Promise<void> {
  await Promise.all(
    clients.map(async (client) => {
      const timer = setTimeout(() => client.socket.terminate(), CLOSE_TIMEOUT_MS)
      await client.close()
      clearTimeout(timer)
    }),
  )
}

/** Connects N rooms × C clients, client i to `room-(i mod N)`, ready to send. */
export async function connectFanout(options: FanoutOptions): Promise<FanoutLoad> {
  const count = options.rooms * options.clientsPerRoom
  if (options.tokens.length < count) throw new Error(`${count} tokens needed`)
  const roomOf = (index: number) => `room-${index % options.rooms}`
  const clients = await connectClients(options.wsUrls, options.tokens.slice(0, count), { roomOf })
  let lost = 0
  let measuring: { frame(frame: ServerFrame): void; lost(): void } | undefined
  for (const client of clients) {
    client.onFrame((frame) => measuring?.frame(frame))
    void client.closed.then(() => {
      lost++
      measuring?.lost()
    })
  }

  async function run(run: FanoutRun): Promise<FanoutResult> {
    const histogram = latencyHistogram()
    const started = now()
    const from = started + (run.warmupMs ?? 0)
    const until = from + run.durationMs
    const counted = (sentAt: number) => sentAt >= from && sentAt < until
    let sent = 0
    let deliveries = 0
    let errors = 0
    measuring = {
      frame(frame) {
        if (frame.type === 'error') errors++
        if (frame.type !== 'room:notification' || frame.code !== 'message') return
        const sentAt = Number(frame.body)
        if (!counted(sentAt)) return
        deliveries++
        histogram.record(now() - sentAt)
      },
      lost() {
        errors++
      },
    }
    // Each client gets its own phase, so that sends are spread over the interval, not in lockstep.
    const phases = clients.map(() => Math.random())
    const sentBy = clients.map(() => 0)
    await new Promise<void>((resolve) => {
      const ticker = setInterval(() => {
        const tick = now()
        if (tick >= until) {
          clearInterval(ticker)
          resolve()
          return
        }
        const elapsed = (tick - started) / 1000
        for (const [index, client] of clients.entries()) {
          const due = Math.floor(elapsed * run.ratePerClient + (phases[index] as number))
          while ((sentBy[index] as number) < due) {
            const sentAt = now()
            client.send({ type: 'message', room_name: roomOf(index), body: String(sentAt) })
            sentBy[index] = (sentBy[index] as number) + 1
            if (counted(sentAt)) sent++
          }
        }
      }, TICK_MS)
    })
    await sleep(run.drainMs ?? 2000)
    measuring = undefined
    const seconds = run.durationMs / 1000
    return {
      clients: count,
      sent,
      deliveries,
      loss: sent * options.clientsPerRoom - deliveries,
      errors,
      sentPerSecond: sent / seconds,
      deliveriesPerSecond: deliveries / seconds,
      latency: histogram.summary(),
    }
  }

  return {
    intact: () => lost === 0,
    run,
    close: () => closeClients(clients),
  }
}

/** Connects, measures one run, and closes. */
export async function runFanout(options: FanoutOptions & FanoutRun): Promise<FanoutResult> {
  const load = await connectFanout(options)
  try {
    return await load.run(options)
  } finally {
    await load.close()
  }
}
