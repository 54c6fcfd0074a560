import type { Redis } from 'ioredis'

export interface LoginLimits {
  maxFailuresPerUser: number
  maxFailuresPerIp: number
  windowSeconds: number
}

export interface LoginLimiter {
  /** Seconds to wait when either the username or the address is over its failure budget. */
  retryAfter(username: string, ip: string): Promise<number | null>
  recordFailure(username: string, ip: string): Promise<void>
}

/**
 * Counts failed logins only, per username and per address, in a fixed window: a guessing loop
 * is stopped after a few dozen tries while successful logins (test suites, load generators)
 * never use up the budget.
 */
export function createMemoryLoginLimiter(
  limits: LoginLimits,
  now: () => number = Date.now,
): LoginLimiter {
  const windows = new Map<string, { count: number; resetAt: number }>()
  const current = (key: string) => {
    const entry = windows.get(key)
    if (entry && entry.resetAt <= now()) {
      windows.delete(key)
      return undefined
    }
    return entry
  }
  const overBy = (key: string, max: number) => {
    const entry = current(key)
    return entry && entry.count >= max ? Math.ceil((entry.resetAt - now()) / 1000) : null
  }
  return {
    async retryAfter(username, ip) {
      return (
        overBy(`u:${username.toLowerCase()}`, limits.maxFailuresPerUser) ??
        overBy(`ip:${ip}`, limits.maxFailuresPerIp)
      )
    },
    async recordFailure(username, ip) {
      if (windows.size > 100_000) {
        for (const key of windows.keys()) current(key)
      }
      for (const key of [`u:${username.toLowerCase()}`, `ip:${ip}`]) {
        const entry = current(key)
        if (entry) entry.count++
        else windows.set(key, { count: 1, resetAt: now() + limits.windowSeconds * 1000 })
      }
    },
  }
}

export function createRedisLoginLimiter(
  redis: Redis,
  limits: LoginLimits,
  prefix = '',
): LoginLimiter {
  const userKey = (username: string) => `${prefix}auth:login-failures:u:${username.toLowerCase()}`
  const ipKey = (ip: string) => `${prefix}auth:login-failures:ip:${ip}`
  return {
    async retryAfter(username, ip) {
      const replies = await redis
        .multi()
        .get(userKey(username))
        .ttl(userKey(username))
        .get(ipKey(ip))
        .ttl(ipKey(ip))
        .exec()
      const [user, userTtl, byIp, ipTtl] = (replies ?? []).map(([error, value]) => {
        if (error) throw error
        return Number(value)
      }) as [number, number, number, number]
      if (user >= limits.maxFailuresPerUser) return Math.max(1, userTtl)
      if (byIp >= limits.maxFailuresPerIp) return Math.max(1, ipTtl)
      return null
    },
    async recordFailure(username, ip) {
      const multi = redis.multi()
      for (const key of [userKey(username), ipKey(ip)]) {
        multi.incr(key).expire(key, limits.windowSeconds, 'NX')
      }
      await multi.exec()
    },
  }
}
