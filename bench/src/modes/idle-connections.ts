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
  /**
   * The chat processes already held as many connections, and dropped them, in an earlier run
   * (a cluster path measured after another over the same processes): they then grow into
   * memory freed before (RSS, and heap structures that keep their size), so their figures are
   * read but flagged (`chatsReused`); the edge's in front is fresh.
   */
  chatsReused?: boolean
}

export interface IdleResult {
  connections: number
  /** Summed over the chat server processes after a full garbage collection, without and with
   * the connections. */
  rssBeforeMiB: number
  rssAfterMiB: number
  kibPerConnection: number
  /** The JavaScript heap in use, likewise: RSS also moves with pages the heap keeps or returns. */
  heapBeforeMiB: number
  heapAfterMiB: number
  heapKibPerConnection: number
  /** See `IdleOptions.chatsReused`: the chats' figures above are then not per connection. */
  chatsReused: boolean
  /** The process in front of the chats (haproxy, the gateway), if any: its own RSS. */
  edge?: {
    name: string
    rssBeforeMiB: number
    rssAfterMiB: number
    kibPerConnection: number
  }
}

/** What idle authenticated connections, each joined to a room, cost the servers in memory. */
export async function idleConnections(
  target: BenchTarget,
  options: IdleOptions,
): Promise<IdleResult> {
  const settleMs = options.settleMs ?? 2000
  const tokens = await target.tokens(options.connections)
  // Read after a full collection, so that what is counted is what the connections keep alive,
  // not what a process had yet to collect (its start's garbage, or that of connecting).
  const { edge } = target
  const memory = async () => {
    const [heap] = await Promise.all([target.collectGarbage(), edge?.collectGarbage?.()])
    await sleep(settleMs / 4)
    return {
      heap,
      rss: target.serverPids.reduce((total, pid) => total + rssMiB(pid), 0),
      edgeRss: edge ? rssMiB(edge.pid) : 0,
    }
  }
  await sleep(settleMs)
  const before = await memory()
  const clients = await connectClients(target.wsUrls, tokens, {
    roomOf: (index) => BENCH_ROOMS[index % BENCH_ROOMS.length] as string,
    batch: options.batch ?? 100,
  })
  try {
    await sleep(settleMs)
    const after = await memory()
    const perConnection = (mib: number) => (mib * 1024) / options.connections
    return {
      connections: options.connections,
      rssBeforeMiB: before.rss,
      rssAfterMiB: after.rss,
      kibPerConnection: perConnection(after.rss - before.rss),
      heapBeforeMiB: before.heap,
      heapAfterMiB: after.heap,
      heapKibPerConnection: perConnection(after.heap - before.heap),
      chatsReused: options.chatsReused ?? false,
      ...(edge && {
        edge: {
          name: edge.name,
          rssBeforeMiB: before.edgeRss,
          rssAfterMiB: after.edgeRss,
          kibPerConnection: perConnection(after.edgeRss - before.edgeRss),
        },
      }),
    }
  } finally {
    await closeClients(clients)
    // Thousands of departures keep the servers busy a while: not for the next mode to measure.
    await sleep(settleMs)
  }
}
