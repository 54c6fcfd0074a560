import type { Redis } from 'ioredis'
import { FixedWindows } from './fixed-windows.js'

export interface RegistrationLimits {
  /** Registrations one address may attempt per window. */
  maxPerIp: number
  windowSeconds: number
}

/**
 * An address's allowance of registrations: each one that would hash a password takes one;
 * past the allowance, the seconds to wait. Apart from the login budgets, so that signing up
 * many accounts neither uses up nor is stopped by failed logins.
 */
export interface RegistrationLimiter {
  take(ip: string): Promise<number | null>
}

const key = (ip: string) => `register:${ip}`

export function createMemoryRegistrationLimiter(
  limits: RegistrationLimits,
  now: () => number = Date.now,
): RegistrationLimiter {
  const windows = new FixedWindows(limits.windowSeconds, now)
  return {
    async take(ip) {
      const wait = windows.overBy(key(ip), limits.maxPerIp)
      if (wait === null) windows.count(key(ip))
      return wait
    },
  }
}

/** Counted, then undone when over: one step for every auth process. */
const TAKE = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
if count <= tonumber(ARGV[1]) then return 0 end
redis.call('DECR', KEYS[1])
return math.max(1, redis.call('TTL', KEYS[1]))
`

export function createRedisRegistrationLimiter(
  redis: Redis,
  limits: RegistrationLimits,
  prefix = '',
): RegistrationLimiter {
  return {
    async take(ip) {
      const wait = (await redis.eval(
        TAKE,
        1,
        `${prefix}auth:${key(ip)}`,
        limits.maxPerIp,
        limits.windowSeconds,
      )) as number
      return wait === 0 ? null : wait
    },
  }
}
