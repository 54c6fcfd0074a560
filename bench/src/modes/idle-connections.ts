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
  /** Summed over the chat server processes. */
  rssBeforeMiB: number
  rssAfterMiB: number
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
  const clients = await connectClients(target.wsUrls, tokens, {
    roomOf: (index) => BENCH_ROOMS[index % BENCH_ROOMS.length] as string,
    batch: options.batch ?? 100,
  })
  try {
    await sleep(settleMs)
    const rssAfterMiB = rss()
    return {
      connections: options.connections,
      rssBeforeMiB,
      rssAfterMiB,
      kibPerConnection: ((rssAfterMiB - rssBeforeMiB) * 1024) / options.connections,
    }
  } finally {
    await closeClients(clients)
    // Thousands of departures keep the servers busy a while: not for the next mode to measure.
    await sleep(settleMs)
  }
}
