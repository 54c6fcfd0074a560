import type { Redis } from 'ioredis'
import { FixedWindows } from './fixed-windows.js'

export interface LoginLimits {
  maxFailuresPerUser: number
  maxFailuresPerIp: number
  windowSeconds: number
  /**
   * How long an address from which an account logged in stays known to it (0: never). From a
   * known address, failures count on a budget of that account at that address instead of the
   * account's own (the same size): a stranger's guesses lock the account for strangers, never
   * for its owner where the owner has been, and guesses from there are limited as before.
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
const userAtKey = (username: string, ip: string) => `ua:${username.toLowerCase()}:${ip}`

/**
 * Counts failed logins only, per username and per address, in a fixed window: a guessing loop
 * is stopped after a few dozen tries while successful logins (test suites, load generators)
 * never use up the budget.
 */
export function createMemoryLoginLimiter(
  limits: LoginLimits,
  now: () => number = Date.now,
): LoginLimiter {
  const windows = new FixedWindows(limits.windowSeconds, now)
  const known = new Map<string, number>()
  const isKnown = (key: string) => (known.get(key) ?? 0) > now()
  const giveBack = (keys: string[]) => {
    for (const key of keys) windows.uncount(key)
  }
  return {
    // No await between the check and the count: one attempt at a time, in this process.
    async reserve(username, ip) {
      const account = isKnown(knownKey(username, ip)) ? userAtKey(username, ip) : userKey(username)
      const keys = [account, ipKey(ip)]
      const wait =
        windows.overBy(account, limits.maxFailuresPerUser) ??
        windows.overBy(ipKey(ip), limits.maxFailuresPerIp)
      if (wait !== null) return { granted: false, retryAfter: wait }
      if (known.size > 100_000) {
        for (const [key, until] of known) if (until <= now()) known.delete(key)
      }
      for (const key of keys) windows.count(key)
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
 * Both budgets in one step, for every auth process at once: an attempt is counted on the
 * account's key (or, from an address it knows, the account-at-address key) and the address's
 * (a window starts with a key's first count), then undone if either is over its budget, in
 * which case the answer is that key's remaining window. Answers [wait, the account key used].
 */
const RESERVE = `
local account = KEYS[1]
if redis.call('EXISTS', KEYS[3]) == 1 then account = KEYS[4] end
local user = redis.call('INCR', account)
if user == 1 then redis.call('EXPIRE', account, ARGV[3]) end
local ip = redis.call('INCR', KEYS[2])
if ip == 1 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
if user <= tonumber(ARGV[1]) and ip <= tonumber(ARGV[2]) then return {0, account} end
redis.call('DECR', account)
redis.call('DECR', KEYS[2])
local over = KEYS[2]
if user > tonumber(ARGV[1]) then over = account end
return {math.max(1, redis.call('TTL', over)), account}
`

/**
 * Gives an attempt back, unless its window has ended meanwhile (the key is gone); with a
 * lifetime in ARGV[1], also marks the address known (the last key), in the same round trip.
 */
const GIVE_BACK = `
local counted = #KEYS
local remember = tonumber(ARGV[1] or '0')
if remember > 0 then counted = counted - 1 end
for i = 1, counted do
  local key = KEYS[i]
  if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
end
if remember > 0 then redis.call('SET', KEYS[#KEYS], '1', 'EX', remember) end
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
      const [wait, account] = (await redis.eval(
        RESERVE,
        4,
        key(userKey(username)),
        key(ipKey(ip)),
        known,
        key(userAtKey(username, ip)),
        limits.maxFailuresPerUser,
        limits.maxFailuresPerIp,
        limits.windowSeconds,
      )) as [number, string]
      if (wait !== 0) return { granted: false, retryAfter: wait }
      const counted = [account, key(ipKey(ip))]
      return {
        granted: true,
        async succeeded() {
          const seconds = limits.knownAddressSeconds ?? 0
          if (seconds > 0) await redis.eval(GIVE_BACK, 3, ...counted, known, seconds)
          else await redis.eval(GIVE_BACK, 2, ...counted)
        },
        async cancel() {
          await redis.eval(GIVE_BACK, 2, ...counted)
        },
      }
    },
  }
}
