import { AsyncLocalStorage } from 'node:async_hooks'
import type { BatchHandler, BusEntry } from './bus.js'
import type { BusLogger } from './logger.js'

const currentRunner = new AsyncLocalStorage<object>()

export interface BatchRunner<T> {
  /** Awaits the handler; a throw is logged and swallowed so that the reading loop goes on. */
  run(entries: BusEntry<T>[]): Promise<void>
  /** true when called from inside this runner's handler, where waiting for it would deadlock. */
  readonly insideHandler: boolean
}

export function createBatchRunner<T>(
  onBatch: BatchHandler<T>,
  logger: BusLogger,
  context: object,
): BatchRunner<T> {
  const token = {}
  return {
    async run(entries) {
      try {
        await currentRunner.run(token, () => onBatch(entries))
      } catch (err) {
        const batch = { firstId: entries[0]?.id, lastId: entries.at(-1)?.id, count: entries.length }
        logger.error({ ...context, err, batch }, 'bus: event handler failed')
      }
    },
    get insideHandler() {
      return currentRunner.getStore() === token
    },
  }
}
