import { HISTORY_PAGE_SIZE } from '@finchat/protocol'
import {
  closeClients,
  connectClients,
  connectFanout,
  type FanoutResult,
  type LatencySummary,
  latencyHistogram,
  now,
  sleep,
} from '../fanout.js'
import type { LeanClient } from '../lean-client.js'
import type { BenchTarget } from '../targets/bench-target.js'

export interface JoinStormOptions {
  rooms: number
  clientsPerRoom: number
  /** Of the fan-out the joins happen under. */
  ratePerClient: number
  durationMs: number
  joiners: number
  /** Each joiner starts a join this often (join, then part). */
  joinIntervalMs?: number
  drainMs?: number
}

export interface JoinStormResult {
  joins: number
  /** Joins answered by an error, or not within the timeout. */
  failedJoins: number
  /** Milliseconds from sending `join` to the own `joined` notification. */
  join: LatencySummary
  /** The fewest messages a `joined` status carried (the server sends up to 50). */
  fewestHistoryMessages: number
  /** The fan-out meanwhile. */
  fanout: FanoutResult
}

const JOIN_TIMEOUT_MS = 5000

/**
 * Under fan-out load, extra clients join the fan-out's rooms (which by then hold a full page of
 * history), then part, over and over; every join is timed.
 */
export async function joinStorm(
  target: BenchTarget,
  options: JoinStormOptions,
): Promise<JoinStormResult> {
  const count = options.rooms * options.clientsPerRoom
  const tokens = await target.tokens(count + options.joiners)
  // Long enough for every room to receive a page of history, and a second more.
  const warmupMs =
    (HISTORY_PAGE_SIZE / (options.clientsPerRoom * options.ratePerClient)) * 1000 + 1000
  const load = await connectFanout({ ...options, wsUrls: target.wsUrls, tokens })
  let joiners: LeanClient[] = []
  try {
    joiners = await connectClients(target.wsUrls, tokens.slice(count))
    const fanout = load.run({ ...options, warmupMs })
    await sleep(warmupMs)
    const storm = await joinRepeatedly(joiners, {
      ...options,
      until: now() + options.durationMs,
    })
    return { ...storm, fanout: await fanout }
  } finally {
    await Promise.all([load.close(), closeClients(joiners)])
  }
}

async function joinRepeatedly(
  joiners: LeanClient[],
  options: { rooms: number; joinIntervalMs?: number; until: number },
) {
  const interval = options.joinIntervalMs ?? 100
  const histogram = latencyHistogram()
  let joins = 0
  let failedJoins = 0
  let fewestHistoryMessages = Number.POSITIVE_INFINITY
  await Promise.all(
    joiners.map(async (client, index) => {
      const room = `room-${index % options.rooms}`
      // Joiners out of step with each other, as people would be.
      await sleep(Math.random() * interval)
      while (now() < options.until) {
        const started = now()
        try {
          const joined = await client.join(room, JOIN_TIMEOUT_MS)
          histogram.record(now() - started)
          joins++
          fewestHistoryMessages = Math.min(
            fewestHistoryMessages,
            joined.status?.messages.length ?? 0,
          )
        } catch {
          failedJoins++
        }
        // The server handles a connection's frames in order, so the next join finds it parted.
        client.send(JSON.stringify({ type: 'part', room_name: room }))
        await sleep(started + interval - now())
      }
    }),
  )
  return {
    joins,
    failedJoins,
    join: histogram.summary(),
    fewestHistoryMessages: joins > 0 ? fewestHistoryMessages : 0,
  }
}
