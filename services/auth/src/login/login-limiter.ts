import type { Redis } from 'ioredis'

export interface LoginLimits {
  maxFailuresPerUser: number
  maxFailuresPerIp: number
  windowSeconds: number
  /**
   * How long an address from which an account logged in stays known to it (0: never). From a
   * known address the account's own budget does not apply, only the address's: a stranger's
   * guesses lock the account for strangers, never for its owner where the owner has been.
   */
  knownAddressSeconds?: number
}

/** An attempt the budgets granted (settle it) or refused (wait that long). */
export type LoginAttempt =
  | { granted: false; retryAfter: number }
  | {
      granted: true
      /** The password was right: the attempt is given back and the address becomes known. */
      succeeded(): Promise<void>
      /** Nothing was decided (an error): the attempt is given back. */
      cancel(): Promise<void>
    }

export interface LoginLimiter {
  /**
   * Takes one attempt from the username's and the address's failure budgets before the
   * password is checked; a wrong password keeps it as its failure. Taking before the ~100 ms
   * hash, in one step, is what stops parallel guesses: each takes its own attempt, so at most a
   * budget's worth ever reaches the hash.
   */
  reserve(username: string, ip: string): Promise<LoginAttempt>
}

const userKey = (username: string) => `u:${username.toLowerCase()}`
const ipKey = (ip: string) => `ip:${ip}`
const knownKey = (username: string, ip: string) => `known:${username.toLowerCase()}:${ip}`

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
  const known = new Map<string, number>()
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
  const isKnown = (key: string) => (known.get(key) ?? 0) > now()
  const giveBack = (keys: string[]) => {
    for (const key of keys) {
      const entry = current(key)
      if (entry && entry.count > 0) entry.count--
    }
  }
  return {
    // No await between the check and the count: one attempt at a time, in this process.
    async reserve(username, ip) {
      const addressKnown = isKnown(knownKey(username, ip))
      const keys = addressKnown ? [ipKey(ip)] : [userKey(username), ipKey(ip)]
      const wait =
        (addressKnown ? null : overBy(userKey(username), limits.maxFailuresPerUser)) ??
        overBy(ipKey(ip), limits.maxFailuresPerIp)
      if (wait !== null) return { granted: false, retryAfter: wait }
      if (windows.size + known.size > 100_000) {
        for (const key of windows.keys()) current(key)
        for (const [key, until] of known) if (until <= now()) known.delete(key)
      }
      for (const key of keys) {
        const entry = current(key)
        if (entry) entry.count++
        else windows.set(key, { count: 1, resetAt: now() + limits.windowSeconds * 1000 })
      }
      return {
        granted: true,
        async succeeded() {
          giveBack(keys)
          const seconds = limits.knownAddressSeconds ?? 0
          if (seconds > 0) known.set(knownKey(username, ip), now() + seconds * 1000)
        },
        async cancel() {
          giveBack(keys)
        },
      }
    },
  }
}

/**
 * Both budgets in one step, for every auth process at once: an attempt is counted on both keys
 * (the window starts with a key's first count; the account's key is skipped from an address it
 * knows), then undone if either is over its budget, in which case the answer is that key's
 * remaining window. Answers [wait, whether the account's key was counted].
 */
const RESERVE = `
local known = redis.call('EXISTS', KEYS[3]) == 1
local user = 0
if not known then
  user = redis.call('INCR', KEYS[1])
  if user == 1 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
end
local ip = redis.call('INCR', KEYS[2])
if ip == 1 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
if user <= tonumber(ARGV[1]) and ip <= tonumber(ARGV[2]) then
  if known then return {0, 0} end
  return {0, 1}
end
if not known then redis.call('DECR', KEYS[1]) end
redis.call('DECR', KEYS[2])
local over = KEYS[2]
if user > tonumber(ARGV[1]) then over = KEYS[1] end
return {math.max(1, redis.call('TTL', over)), 0}
`

/** Gives an attempt back, unless its window has ended meanwhile (the key is gone). */
const GIVE_BACK = `
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
  const key = (name: string) => `${prefix}auth:login-failures:${name}`
  return {
    async reserve(username, ip) {
      const known = key(knownKey(username, ip))
      const [wait, countedUser] = (await redis.eval(
        RESERVE,
        3,
        key(userKey(username)),
        key(ipKey(ip)),
        known,
        limits.maxFailuresPerUser,
        limits.maxFailuresPerIp,
        limits.windowSeconds,
      )) as [number, number]
      if (wait !== 0) return { granted: false, retryAfter: wait }
      const counted = countedUser ? [key(userKey(username)), key(ipKey(ip))] : [key(ipKey(ip))]
      const giveBack = async () => {
        await redis.eval(GIVE_BACK, counted.length, ...counted)
      }
      return {
        granted: true,
        async succeeded() {
          await giveBack()
          const seconds = limits.knownAddressSeconds ?? 0
          if (seconds > 0) await redis.set(known, '1', 'EX', seconds)
        },
        cancel: giveBack,
      }
    },
  }
}
