import type { Redis } from 'ioredis'

export interface LoginLimits {
  maxFailuresPerUser: number
  maxFailuresPerIp: number
  windowSeconds: number
}

export interface LoginLimiter {
  /**
   * Takes one attempt from the username's and the address's failure budgets, before the
   * password is checked: null when both had one left, else the seconds to wait (and nothing is
   * taken). Taking before the ~100 ms hash, in one step, is what stops parallel guesses: each
   * of them takes its own attempt, so at most a budget's worth ever reaches the hash.
   */
  reserve(username: string, ip: string): Promise<number | null>
  /** The password was right: the attempt reserved is given back (a success costs nothing). */
  release(username: string, ip: string): Promise<void>
}

const userKey = (username: string) => `u:${username.toLowerCase()}`
const ipKey = (ip: string) => `ip:${ip}`

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
    // No await between the check and the count: one attempt at a time, in this process.
    async reserve(username, ip) {
      const wait =
        overBy(userKey(username), limits.maxFailuresPerUser) ??
        overBy(ipKey(ip), limits.maxFailuresPerIp)
      if (wait !== null) return wait
      if (windows.size > 100_000) {
        for (const key of windows.keys()) current(key)
      }
      for (const key of [userKey(username), ipKey(ip)]) {
        const entry = current(key)
        if (entry) entry.count++
        else windows.set(key, { count: 1, resetAt: now() + limits.windowSeconds * 1000 })
      }
      return null
    },
    async release(username, ip) {
      for (const key of [userKey(username), ipKey(ip)]) {
        const entry = current(key)
        if (entry && entry.count > 0) entry.count--
      }
    },
  }
}

/**
 * Both budgets in one step, for every auth process at once: an attempt is counted on both keys
 * (the window starts with a key's first count), then undone if either is over its budget, in
 * which case the answer is that key's remaining window.
 */
const RESERVE = `
local user = redis.call('INCR', KEYS[1])
if user == 1 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
local ip = redis.call('INCR', KEYS[2])
if ip == 1 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
if user <= tonumber(ARGV[1]) and ip <= tonumber(ARGV[2]) then return 0 end
redis.call('DECR', KEYS[1])
redis.call('DECR', KEYS[2])
local over = KEYS[2]
if user > tonumber(ARGV[1]) then over = KEYS[1] end
return math.max(1, redis.call('TTL', over))
`

/** Gives an attempt back, unless its window has ended meanwhile (the key is gone). */
const RELEASE = `
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
end
return 0
`

export function createRedisLoginLimiter(
  redis: Redis,
  limits: LoginLimits,
  prefix = '',
): LoginLimiter {
  const keys = (username: string, ip: string) => [
    `${prefix}auth:login-failures:${userKey(username)}`,
    `${prefix}auth:login-failures:${ipKey(ip)}`,
  ]
  return {
    async reserve(username, ip) {
      const wait = (await redis.eval(
        RESERVE,
        2,
        ...keys(username, ip),
        limits.maxFailuresPerUser,
        limits.maxFailuresPerIp,
        limits.windowSeconds,
      )) as number
      return wait === 0 ? null : wait
    },
    async release(username, ip) {
      await redis.eval(RELEASE, 2, ...keys(username, ip))
    },
  }
}
