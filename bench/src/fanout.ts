import type { ServerFrame } from '@finchat/protocol'
import { ChatClient } from '@finchat/protocol/client'
import * as hdr from 'hdr-histogram-js'

export interface FanoutOptions {
  /** Clients are spread over these, in turn. */
  wsUrls: string[]
  /** One credential per client (sent as `?token=`). */
  tokens: string[]
  rooms: number
  clientsPerRoom: number
  /** Messages per second per client. */
  ratePerClient: number
  durationMs: number
  /** Time after the last send for the last deliveries to arrive. */
  drainMs?: number
}

export interface FanoutResult {
  clients: number
  sent: number
  deliveries: number
  /** Expected minus received deliveries (every member gets every message, the sender too). */
  loss: number
  errors: number
  sentPerSecond: number
  deliveriesPerSecond: number
  /** Milliseconds, from the send timestamp in the body to the recipient's receipt. */
  latency: { p50: number; p95: number; p99: number; max: number }
}

const now = () => performance.timeOrigin + performance.now()

/** N rooms × C clients, each sending at a fixed rate; every recipient measures latency. */
export async function runFanout(options: FanoutOptions): Promise<FanoutResult> {
  const count = options.rooms * options.clientsPerRoom
  if (options.tokens.length < count) throw new Error(`${count} tokens needed`)
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000 })
  let deliveries = 0
  let errors = 0
  let measuring = false
  const clients: ChatClient[] = []
  const roomOf = (i: number) => `room-${i % options.rooms}`

  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, async (_, k) => {
        const index = i + k
        const client = await ChatClient.connect(
          options.wsUrls[index % options.wsUrls.length] as string,
          {
            token: options.tokens[index],
            tokenIn: 'query',
            maxBuffered: 10,
          },
        )
        await client.next((f) => f.type === 'notification' && f.code === 'api-motd', 30_000)
        await client.join(roomOf(index), 30_000)
        return client
      }),
    )
    clients.push(...batch)
  }
  for (const client of clients) {
    client.onFrame((frame: ServerFrame) => {
      if (!measuring) return
      if (frame.type === 'error') errors++
      if (frame.type !== 'room:notification' || frame.code !== 'message') return
      deliveries++
      const sentAt = Number(frame.body)
      if (Number.isFinite(sentAt))
        histogram.recordValue(Math.max(1, Math.round((now() - sentAt) * 1000)))
    })
    void client.closed.then(() => {
      if (measuring) errors++
    })
  }

  let sent = 0
  measuring = true
  const started = now()
  const interval = 1000 / options.ratePerClient
  const timers = clients.map((client, index) => {
    const send = () => {
      client.send({ type: 'message', room_name: roomOf(index), body: String(now()) })
      sent++
    }
    // Spread the clients' sends over the interval instead of in lockstep.
    const start = setTimeout(() => {
      send()
      timers[index] = setInterval(send, interval)
    }, Math.random() * interval)
    return start
  })
  await new Promise((resolve) => setTimeout(resolve, options.durationMs))
  for (const timer of timers) clearInterval(timer)
  const elapsed = (now() - started) / 1000
  await new Promise((resolve) => setTimeout(resolve, options.drainMs ?? 2000))
  measuring = false
  await Promise.all(clients.map((client) => client.close().catch(() => {})))

  const ms = (percentile: number) => histogram.getValueAtPercentile(percentile) / 1000
  const result: FanoutResult = {
    clients: count,
    sent,
    deliveries,
    loss: sent * options.clientsPerRoom - deliveries,
    errors,
    sentPerSecond: sent / elapsed,
    deliveriesPerSecond: deliveries / elapsed,
    latency: { p50: ms(50), p95: ms(95), p99: ms(99), max: histogram.maxValue / 1000 },
  }
  histogram.destroy()
  return result
}
