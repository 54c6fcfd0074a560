import { closeClients, connectClients, sleep } from '../fanout.js'
import { rssMiB } from '../process-stats.js'
import { BENCH_ROOMS } from '../targets/bench-rooms.js'
import type { BenchTarget } from '../targets/bench-target.js'

export interface IdleOptions {
  connections: number
  /** Clients connecting at once. */
  batch?: number
  /** Wait before each RSS reading and after closing, for the servers to finish what
   * connecting (or leaving) set off. */
  settleMs?: number
}

export interface IdleResult {
  connections: number
  /** Summed over the chat server processes, before any connection. */
  rssBeforeMiB: number
  /** With the first half of the connections. */
  rssHalfMiB: number
  /** With all of them. */
  rssAfterMiB: number
  /** What the second half added, per connection. */
  kibPerConnection: number
}

/** What idle authenticated connections, each joined to a room, cost the servers in memory. */
export async function idleConnections(
  target: BenchTarget,
  options: IdleOptions,
): Promise<IdleResult> {
  const settleMs = options.settleMs ?? 2000
  const tokens = await target.tokens(options.connections)
  const rss = () => target.serverPids.reduce((total, pid) => total + rssMiB(pid), 0)
  await sleep(settleMs)
  const rssBeforeMiB = rss()
  // Measured over the second half: a server's first connections also grow its heaps to their
  // working size, and the garbage of its start (compiling its TypeScript) may be collected
  // meanwhile, which moves RSS by more than thousands of connections do.
  const half = Math.floor(tokens.length / 2)
  const connect = (from: number, to: number) =>
    connectClients(target.wsUrls, tokens.slice(from, to), {
      roomOf: (index) => BENCH_ROOMS[(from + index) % BENCH_ROOMS.length] as string,
      batch: options.batch ?? 100,
    })
  const clients = await connect(0, half)
  try {
    await sleep(settleMs)
    const rssHalfMiB = rss()
    clients.push(...(await connect(half, tokens.length)))
    await sleep(settleMs)
    const rssAfterMiB = rss()
    return {
      connections: options.connections,
      rssBeforeMiB,
      rssHalfMiB,
      rssAfterMiB,
      kibPerConnection: ((rssAfterMiB - rssHalfMiB) * 1024) / (tokens.length - half),
    }
  } finally {
    await closeClients(clients)
    // Thousands of departures keep the servers busy a while: not for the next mode to measure.
    await sleep(settleMs)
  }
}
