export interface BusEntry<T = unknown> {
  /** Redis stream id, `${ms}-${seq}`. */
  id: string
  data: T
}

export type BatchHandler<T> = (entries: BusEntry<T>[]) => void | Promise<void>

export interface SubscribeOptions {
  /** Deliver entries after this id; '$' (the default) means only entries appended from now on. */
  after?: string
  /**
   * While the stream is busy, gathers entries between reads: after a read of at least `entries`
   * entries, the next waits `ms`, so that it (and the handler's run) carries more entries for
   * the same round trip. A read of fewer entries is followed at once: a quiet stream is delivered
   * without delay. Only where a read is a round trip (Redis); the in-process bus has none.
   */
  linger?: { entries: number; ms: number }
}

export interface ConsumeOptions {
  /** Where a group that does not exist yet starts: '$' (the default) new entries only, '0' everything. */
  start?: '$' | '0'
  /**
   * Entries left pending this long, by any consumer of the group, are claimed and delivered again.
   * Keep it well above the longest handler run, or entries still in work get delivered twice.
   */
  claimIdleMs?: number
  /** Most entries per batch. */
  count?: number
}

export interface BusSubscription {
  /** Last id delivered to the handler (for `subscribe` before any delivery: the start position). */
  readonly position: string
  /**
   * Resolves once the subscription is positioned: entries appended after it resolves are delivered
   * (with `after: '$'`), and a consumer group exists. Also resolves when closed before that.
   */
  readonly ready: Promise<void>
  /**
   * Stops delivering. Waits for a running handler to return, unless called from inside that
   * handler (so a handler may close its own subscription).
   */
  close(): Promise<void>
}

/**
 * Appends only above every order appended or raised before under the same fence of the stream,
 * checked and recorded in one step with the append. For publishers whose exclusive right to
 * append (a lock held elsewhere) may lapse while they are stalled: what they announce late is
 * refused, with `FencedOffError`, instead of landing after a later entry.
 */
export interface Fence {
  key: string
  order: number
}

export class FencedOffError extends Error {
  override name = 'FencedOffError'
  constructor(stream: string, fence: Fence) {
    super(`bus: ${stream} is fenced above ${fence.order} for ${fence.key}`)
  }
}

export interface Bus {
  /**
   * Appends one event (JSON-serialized into a single field) and returns its id. Trims approximately
   * to the stream's max length.
   */
  append(stream: string, data: unknown, fence?: Fence): Promise<string>
  /** From now on, an append under `fence` with an order up to `order` is refused. */
  raiseFence(stream: string, fence: string, order: number): Promise<void>
  /**
   * Fan-out reading: every subscriber sees every entry after `after`, in order, in batches. The
   * handler is awaited before the next batch is delivered. A handler that throws is logged and
   * the subscription moves on past that batch.
   */
  subscribe<T = unknown>(
    stream: string,
    onBatch: BatchHandler<T>,
    options?: SubscribeOptions,
  ): BusSubscription
  /**
   * Consumer-group reading: entries are shared among the consumers of `group`; each delivered entry
   * stays pending until acked. On start a consumer first gets its own pending entries again, and it
   * periodically claims entries pending longer than `claimIdleMs`. A handler that throws is logged
   * and its entries stay pending, so they come back through claiming.
   */
  consume<T = unknown>(
    stream: string,
    group: string,
    consumer: string,
    onBatch: BatchHandler<T>,
    options?: ConsumeOptions,
  ): BusSubscription
  ack(stream: string, group: string, ids: string[]): Promise<void>
  /**
   * Reads what the stream holds after the id `after` ('0' for its start), oldest first, at most
   * `count` entries: for looking back at what was published, not for following the stream.
   */
  range<T = unknown>(stream: string, after: string, count: number): Promise<BusEntry<T>[]>
  /** true when the backing store answers (for /readyz). */
  ping(): Promise<boolean>
  /** Closes every subscription and connection. */
  close(): Promise<void>
}
