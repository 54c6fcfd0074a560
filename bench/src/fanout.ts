import * as hdr from 'hdr-histogram-js'
import { LeanClient, type ReceivedFrame } from './lean-client.js'
import { machineBusySeconds } from './process-stats.js'

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
  /** The load generator's own CPU seconds, from the first send to the drain's end. */
  generatorCpuSeconds: number
  /** The same as a fraction of one core: the window the servers' CPU is read over. */
  generatorCpu: number
  /** A fraction of one core again, over the sending alone (the drain is mostly idle). */
  generatorSendingCpu: number
  /** CPU seconds every process of the machine used over the window, the generator included. */
  machineCpuSeconds: number
  /** The window's wall time: from the first send to the drain's end (warm-up included). */
  windowSeconds: number
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
// Due sends are worked out every tick from the elapsed time, so a late tick catches up instead
// of the load quietly easing off when the system under test slows down. 5 ms rather than 1: each
// tick walks every client, and the per-client phases spread the sends over the interval anyway
// (the send time in the body is taken when the frame is sent, not when it was due).
const TICK_MS = 5
/** Above this share of one core, the generator, not the target, sets the figures. */
export const GENERATOR_SATURATED = 0.85

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
      const max = histogram.maxValue / 1000
      // A percentile is reported as the top of its bucket, which can pass the largest value
      // recorded when that value is in the same bucket (few samples): it is never above it.
      const ms = (percentile: number) =>
        Math.min(histogram.getValueAtPercentile(percentile) / 1000, max)
      return { p50: ms(50), p95: ms(95), p99: ms(99), max }
    },
  }
}

/**
 * The load generator's own CPU (every thread of this process) from its creation to `read`,
 * and the whole machine's over the same time.
 */
export function generatorCpuMeter() {
  const usage = process.cpuUsage()
  const machine = machineBusySeconds()
  const started = performance.now()
  return {
    /** CPU seconds, the same as a fraction of one core over the wall time elapsed, and the
     * machine's CPU seconds. */
    read() {
      const { user, system } = process.cpuUsage(usage)
      const seconds = (user + system) / 1e6
      const wall = (performance.now() - started) / 1000
      return {
        seconds,
        share: wall > 0 ? seconds / wall : 0,
        machineSeconds: machineBusySeconds() - machine,
        wallSeconds: wall,
      }
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
): Promise<LeanClient[]> {
  const batch = options.batch ?? 50
  const clients: LeanClient[] = []
  try {
    for (let from = 0; from < tokens.length; from += batch) {
      const settled = await Promise.allSettled(
        tokens.slice(from, from + batch).map(async (token, k) => {
          const index = from + k
          const url = wsUrls[index % wsUrls.length] as string
          const client = await LeanClient.connect(url, token, SETUP_TIMEOUT_MS)
          clients[index] = client
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
export async function closeClients(clients: LeanClient[]): Promise<void> {
  await Promise.all(clients.map((client) => client.close(CLOSE_TIMEOUT_MS)))
}

/** Connects N rooms × C clients, client i to `room-(i mod N)`, ready to send. */
export async function connectFanout(options: FanoutOptions): Promise<FanoutLoad> {
  const count = options.rooms * options.clientsPerRoom
  if (options.tokens.length < count) throw new Error(`${count} tokens needed`)
  const roomOf = (index: number) => `room-${index % options.rooms}`
  const clients = await connectClients(options.wsUrls, options.tokens.slice(0, count), { roomOf })
  // Each client's message frame up to the body's opening quote, serialized once: the frame sent
  // is JSON.stringify({ type, room_name, body: String(sentAt) }), without a serialization each.
  const framePrefixes = clients.map((_, index) => {
    const frame = JSON.stringify({ type: 'message', room_name: roomOf(index), body: '' })
    return frame.slice(0, -'"}'.length)
  })
  let lost = 0
  let lostWhileMeasuring: (() => void) | undefined
  for (const client of clients) {
    void client.closed.then(() => {
      lost++
      lostWhileMeasuring?.()
    })
  }

  async function run(run: FanoutRun): Promise<FanoutResult> {
    const histogram = latencyHistogram()
    const generator = generatorCpuMeter()
    const started = now()
    const from = started + (run.warmupMs ?? 0)
    const until = from + run.durationMs
    let sent = 0
    let deliveries = 0
    let errors = 0
    // The receive path: every frame is parsed (by the client), none validated; a delivery is a
    // message notification whose body, the send time, falls in the window.
    const onFrame = (frame: ReceivedFrame) => {
      if (frame.type === 'room:notification') {
        if (frame.code !== 'message') return
        const sentAt = Number(frame.body)
        if (sentAt < from || sentAt >= until) return
        deliveries++
        histogram.record(now() - sentAt)
      } else if (frame.type === 'error') {
        errors++
      }
    }
    for (const client of clients) client.onFrame = onFrame
    lostWhileMeasuring = () => {
      errors++
    }
    // Client i sends its k-th message (k = 1, 2, …) at started + (k − phase_i) / rate: each its
    // own phase, so that sends are spread over the interval, not in lockstep.
    const intervalMs = 1000 / run.ratePerClient
    const nextAt = new Float64Array(clients.length)
    for (let i = 0; i < clients.length; i++) nextAt[i] = started + (1 - Math.random()) * intervalMs
    let sendingCpu = generator.read()
    await new Promise<void>((resolve) => {
      const ticker = setInterval(() => {
        const tick = now()
        if (tick >= until) {
          clearInterval(ticker)
          sendingCpu = generator.read()
          resolve()
          return
        }
        for (let i = 0; i < clients.length; i++) {
          while ((nextAt[i] as number) <= tick) {
            const sentAt = now()
            ;(clients[i] as LeanClient).send(`${framePrefixes[i]}${sentAt}"}`)
            nextAt[i] = (nextAt[i] as number) + intervalMs
            if (sentAt >= from && sentAt < until) sent++
          }
        }
      }, TICK_MS)
    })
    await sleep(run.drainMs ?? 2000)
    for (const client of clients) client.onFrame = undefined
    lostWhileMeasuring = undefined
    const cpu = generator.read()
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
      generatorCpuSeconds: cpu.seconds,
      generatorCpu: cpu.share,
      generatorSendingCpu: sendingCpu.share,
      machineCpuSeconds: cpu.machineSeconds,
      windowSeconds: cpu.wallSeconds,
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
