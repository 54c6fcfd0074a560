import { createBatchRunner } from './batch-runner.js'
import {
  type BatchHandler,
  type Bus,
  type BusEntry,
  type BusSubscription,
  type ConsumeOptions,
  FencedOffError,
  type SubscribeOptions,
} from './bus.js'
import { claimInterval, defaultClaimIdleMs, defaultCount, defaultMaxLen } from './defaults.js'
import { type BusLogger, consoleLogger } from './logger.js'
import { serialize } from './serialize.js'
import { checkAfter, compareStreamIds, parseId, type StreamId } from './stream-id.js'

export interface MemoryBusOptions {
  /** Entries kept per stream, approximately (like Redis' `MAXLEN ~`). */
  maxLen?: number
  /** Most entries per batch (the default for consumers too). */
  count?: number
  logger?: BusLogger
}

interface StoredEntry extends StreamId {
  id: string
  json: string
}

interface PendingEntry {
  entry: StoredEntry
  consumer: string
  deliveredAt: number
}

interface Group {
  lastDelivered: StreamId
  /** Keyed by entry id; insertion order is id order because entries are read in id order. */
  pending: Map<string, PendingEntry>
}

interface Stream {
  entries: StoredEntry[]
  last: StreamId
  groups: Map<string, Group>
  wakers: Set<() => void>
}

const zeroId: StreamId = { ms: 0, seq: 0 }

/** In-process bus with the semantics of the Redis one, for a single process and for tests. */
export function createMemoryBus(options: MemoryBusOptions = {}): Bus {
  const maxLen = options.maxLen ?? defaultMaxLen
  const count = options.count ?? defaultCount
  const logger = options.logger ?? consoleLogger
  // Trimming in chunks, as Redis does, keeps a full stream from shifting its array on every append.
  const trimSlack = Math.max(1, Math.ceil(maxLen / 10))
  const streams = new Map<string, Stream>()
  /** By stream, the highest order of each fence (`appendInOrder`). */
  const fences = new Map<string, Map<string, number>>()
  const subscriptions = new Set<BusSubscription>()
  let closed = false

  function streamOf(name: string): Stream {
    let stream = streams.get(name)
    if (!stream) {
      stream = { entries: [], last: zeroId, groups: new Map(), wakers: new Set() }
      streams.set(name, stream)
    }
    return stream
  }

  function assertOpen(): void {
    if (closed) throw new Error('bus: closed')
  }

  function open(loop: {
    stream: Stream
    wakeup: Wakeup
    runner: { readonly insideHandler: boolean }
    state: { position: string }
    /** One read and delivery; false when there was nothing to deliver. */
    step: () => Promise<boolean>
    onClose?: () => void
  }): BusSubscription {
    const { stream, wakeup, runner, state } = loop
    let stopped = false
    stream.wakers.add(wakeup.wake)
    const done = (async () => {
      // Never run a handler synchronously inside subscribe() or append().
      await Promise.resolve()
      while (!stopped) {
        if (await loop.step()) {
          // Woken last next time: consumers of a group then take turns, as Redis serves
          // its blocked readers first come, first served.
          if (stream.wakers.delete(wakeup.wake)) stream.wakers.add(wakeup.wake)
        } else {
          await wakeup.wait()
        }
      }
    })()
    const subscription: BusSubscription = {
      get position() {
        return state.position
      },
      ready: Promise.resolve(),
      async close() {
        stopped = true
        stream.wakers.delete(wakeup.wake)
        loop.onClose?.()
        wakeup.wake()
        subscriptions.delete(subscription)
        if (!runner.insideHandler) await done
      },
    }
    subscriptions.add(subscription)
    return subscription
  }

  function raiseFence(name: string, fence: string, order: number) {
    const ofStream = fences.get(name) ?? new Map<string, number>()
    fences.set(name, ofStream)
    ofStream.set(fence, Math.max(order, ofStream.get(fence) ?? Number.NEGATIVE_INFINITY))
  }

  const bus: Bus = {
    async append(name, data, fence) {
      assertOpen()
      const json = serialize(data)
      if (fence) {
        if (fence.order <= (fences.get(name)?.get(fence.key) ?? Number.NEGATIVE_INFINITY)) {
          throw new FencedOffError(name, fence)
        }
        raiseFence(name, fence.key, fence.order)
      }
      const stream = streamOf(name)
      const now = Date.now()
      const next =
        now > stream.last.ms
          ? { ms: now, seq: 0 }
          : { ms: stream.last.ms, seq: stream.last.seq + 1 }
      const entry = { ...next, id: `${next.ms}-${next.seq}`, json }
      stream.entries.push(entry)
      stream.last = next
      if (stream.entries.length > maxLen + trimSlack) {
        stream.entries.splice(0, stream.entries.length - maxLen)
      }
      for (const wake of stream.wakers) wake()
      return entry.id
    },

    async raiseFence(name, fence, order) {
      assertOpen()
      raiseFence(name, fence, order)
    },

    async range<T = unknown>(name: string, after: string, count: number) {
      assertOpen()
      const { entries } = streamOf(name)
      const from = indexAfter(entries, parseId(after))
      return entries.slice(from, from + count).map((entry) => decode<T>(entry))
    },

    subscribe<T = unknown>(
      name: string,
      onBatch: BatchHandler<T>,
      subscribeOptions: SubscribeOptions = {},
    ) {
      assertOpen()
      const after = checkAfter(subscribeOptions.after ?? '$')
      const stream = streamOf(name)
      let position = after === '$' ? stream.last : parseId(after)
      const state = { position: after === '$' ? `${position.ms}-${position.seq}` : after }
      const runner = createBatchRunner(onBatch, logger, { stream: name })
      return open({
        stream,
        wakeup: createWakeup(),
        runner,
        state,
        step: async () => {
          const start = indexAfter(stream.entries, position)
          const batch = stream.entries.slice(start, start + count)
          const last = batch.at(-1)
          if (!last) return false
          position = last
          state.position = last.id
          await runner.run(batch.map(decode<T>))
          return true
        },
      })
    },

    consume<T = unknown>(
      name: string,
      groupName: string,
      consumer: string,
      onBatch: BatchHandler<T>,
      consumeOptions: ConsumeOptions = {},
    ) {
      assertOpen()
      const batchSize = consumeOptions.count ?? count
      const claimIdleMs = consumeOptions.claimIdleMs ?? defaultClaimIdleMs
      const claimEveryMs = claimInterval(claimIdleMs)
      const stream = streamOf(name)
      const group = stream.groups.get(groupName) ?? {
        lastDelivered: consumeOptions.start === '0' ? zeroId : stream.last,
        pending: new Map<string, PendingEntry>(),
      }
      stream.groups.set(groupName, group)
      const { pending } = group
      const state = { position: '0-0' }
      const runner = createBatchRunner(onBatch, logger, {
        stream: name,
        group: groupName,
        consumer,
      })
      let recovering = true
      let recoveredUpTo = zeroId
      let claimCursor = zeroId
      let claimDue = true
      let claimTimer: NodeJS.Timeout | undefined
      const wakeup = createWakeup()

      // Entries trimmed away while pending can never be delivered again; Redis drops them too.
      function trimmed(entry: StoredEntry): boolean {
        const first = stream.entries[0]
        return !first || compareStreamIds(entry, first) < 0
      }

      function takePending(from: StreamId, take: (item: PendingEntry) => boolean): StoredEntry[] {
        const batch: StoredEntry[] = []
        for (const [id, item] of pending) {
          if (batch.length === batchSize) break
          if (compareStreamIds(item.entry, from) <= 0 || !take(item)) continue
          if (trimmed(item.entry)) {
            pending.delete(id)
            continue
          }
          item.consumer = consumer
          item.deliveredAt = Date.now()
          batch.push(item.entry)
        }
        return batch
      }

      function readNew(): StoredEntry[] {
        const start = indexAfter(stream.entries, group.lastDelivered)
        const batch = stream.entries.slice(start, start + batchSize)
        const deliveredAt = Date.now()
        for (const entry of batch) pending.set(entry.id, { entry, consumer, deliveredAt })
        group.lastDelivered = batch.at(-1) ?? group.lastDelivered
        return batch
      }

      function claim(): StoredEntry[] {
        const idleSince = Date.now() - claimIdleMs
        const batch = takePending(claimCursor, (item) => item.deliveredAt <= idleSince)
        const last = batch.at(-1)
        if (last && batch.length === batchSize) {
          claimCursor = last
        } else {
          claimCursor = zeroId
          claimDue = false
          // A flag rather than a clock comparison: timers may fire a millisecond early.
          claimTimer = setTimeout(() => {
            claimDue = true
            wakeup.wake()
          }, claimEveryMs).unref()
        }
        return batch
      }

      return open({
        stream,
        wakeup,
        runner,
        state,
        step: async () => {
          let batch: StoredEntry[] = []
          if (recovering) {
            batch = takePending(recoveredUpTo, (item) => item.consumer === consumer)
            recoveredUpTo = batch.at(-1) ?? recoveredUpTo
            recovering = batch.length > 0
          }
          if (batch.length === 0 && claimDue) batch = claim()
          if (batch.length === 0) batch = readNew()
          const last = batch.at(-1)
          if (!last) return false
          state.position = last.id
          await runner.run(batch.map(decode<T>))
          return true
        },
        onClose: () => clearTimeout(claimTimer),
      })
    },

    async ack(name, groupName, ids) {
      const pending = streams.get(name)?.groups.get(groupName)?.pending
      for (const id of ids) pending?.delete(id)
    },

    async ping() {
      return !closed
    },

    async close() {
      closed = true
      await Promise.all([...subscriptions].map((subscription) => subscription.close()))
    },
  }
  return bus
}

function decode<T>(entry: StoredEntry): BusEntry<T> {
  return { id: entry.id, data: JSON.parse(entry.json) as T }
}

/** Index of the first entry whose id is greater than `after`. */
function indexAfter(entries: StoredEntry[], after: StreamId): number {
  let low = 0
  let high = entries.length
  while (low < high) {
    const middle = (low + high) >>> 1
    const entry = entries[middle] as StoredEntry
    if (compareStreamIds(entry, after) <= 0) low = middle + 1
    else high = middle
  }
  return low
}

interface Wakeup {
  wake: () => void
  wait: () => Promise<void>
}

/** A wake-up that is never lost: a wake before the wait makes the next wait return at once. */
function createWakeup(): Wakeup {
  let woken = false
  let resolve: (() => void) | undefined
  return {
    wake() {
      if (resolve) {
        resolve()
        resolve = undefined
      } else {
        woken = true
      }
    },
    wait() {
      if (woken) {
        woken = false
        return Promise.resolve()
      }
      return new Promise((r) => {
        resolve = r
      })
    },
  }
}
