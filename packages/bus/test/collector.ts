import type { BatchHandler, BusEntry, BusLogger } from '../src/index.js'

export interface Collector<T> {
  readonly entries: BusEntry<T>[]
  readonly batches: BusEntry<T>[][]
  onBatch: BatchHandler<T>
  /** Resolves once `done(entries)` holds; rejects after `timeoutMs` so a test fails, never hangs. */
  waitUntil(done: (entries: BusEntry<T>[]) => boolean, timeoutMs?: number): Promise<BusEntry<T>[]>
  waitFor(count: number, timeoutMs?: number): Promise<BusEntry<T>[]>
}

/** Records every delivered batch, then calls `handle` (which may throw, to test error handling). */
export function createCollector<T = unknown>(
  handle?: (entries: BusEntry<T>[]) => void | Promise<void>,
): Collector<T> {
  const entries: BusEntry<T>[] = []
  const batches: BusEntry<T>[][] = []
  const checks = new Set<() => void>()

  function waitUntil(done: (entries: BusEntry<T>[]) => boolean, timeoutMs = 10_000) {
    return new Promise<BusEntry<T>[]>((resolve, reject) => {
      const check = () => {
        if (!done(entries)) return
        checks.delete(check)
        clearTimeout(timer)
        resolve(entries)
      }
      const timer = setTimeout(() => {
        checks.delete(check)
        reject(new Error(`timed out after ${timeoutMs}ms with ${entries.length} entries`))
      }, timeoutMs)
      checks.add(check)
      check()
    })
  }

  return {
    entries,
    batches,
    async onBatch(batch) {
      batches.push(batch)
      entries.push(...batch)
      for (const check of checks) check()
      await handle?.(batch)
    },
    waitUntil,
    waitFor: (count, timeoutMs) => waitUntil((all) => all.length >= count, timeoutMs),
  }
}

export interface LogRecord {
  level: 'info' | 'warn' | 'error'
  msg: string
  obj: object
}

export function createTestLogger(): { logger: BusLogger; records: LogRecord[] } {
  const records: LogRecord[] = []
  return {
    records,
    logger: {
      info: (obj, msg) => records.push({ level: 'info', msg, obj }),
      warn: (obj, msg) => records.push({ level: 'warn', msg, obj }),
      error: (obj, msg) => records.push({ level: 'error', msg, obj }),
    },
  }
}
