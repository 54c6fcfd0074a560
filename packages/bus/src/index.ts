import type { Bus } from './bus.js'
import type { BusLogger } from './logger.js'
import { createMemoryBus } from './memory-bus.js'
import { createRedisBus } from './redis-bus.js'

export type * from './bus.js'
export { FencedOffError } from './bus.js'
export type { BusLogger } from './logger.js'
export { createMemoryBus, type MemoryBusOptions } from './memory-bus.js'
export { createRedisBus, type RedisBusOptions } from './redis-bus.js'
export { compareIds } from './stream-id.js'

export interface CreateBusOptions {
  /** Redis when set, the in-process bus otherwise. */
  redisUrl?: string
  /** Prepended to Redis stream keys. */
  prefix?: string
  maxLen?: number
  logger?: BusLogger
}

export function createBus(options: CreateBusOptions = {}): Bus {
  const { redisUrl, prefix, ...common } = options
  return redisUrl ? createRedisBus({ url: redisUrl, prefix, ...common }) : createMemoryBus(common)
}
