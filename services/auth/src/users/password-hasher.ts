import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto'
import { BusyError } from '@finchat/kit'

export interface PasswordHasher {
  hash(password: string): Promise<string>
  verify(password: string, stored: string): Promise<boolean>
}

const KEY_LENGTH = 32

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // node's scrypt runs on the libuv thread pool: the event loop keeps serving meanwhile.
    scrypt(password, salt, KEY_LENGTH, options, (error, key) =>
      error ? reject(error) : resolve(key),
    )
  })
}

/**
 * scrypt with a per-password salt. The cost is stored with each hash (`scrypt$logN$r$p$salt$key`),
 * so raising it later leaves existing hashes verifiable.
 */
export function createScryptHasher(logN = 15): PasswordHasher {
  const r = 8
  const p = 1
  const options = (log: number): ScryptOptions => ({
    N: 2 ** log,
    r,
    p,
    maxmem: 256 * 2 ** log * r,
  })
  return {
    async hash(password) {
      const salt = randomBytes(16)
      const key = await derive(password, salt, options(logN))
      return ['scrypt', logN, r, p, salt.toString('base64'), key.toString('base64')].join('$')
    },
    async verify(password, stored) {
      const [scheme, log, , , salt, key] = stored.split('$')
      if (scheme !== 'scrypt' || !log || !salt || !key) return false
      const expected = Buffer.from(key, 'base64')
      const actual = await derive(password, Buffer.from(salt, 'base64'), options(Number(log)))
      return actual.length === expected.length && timingSafeEqual(actual, expected)
    },
  }
}

export interface HashQueueLimits {
  /** Hashes computed at once (node's thread pool runs 4 by default). */
  concurrency: number
  /** Hashes that may wait for a turn; past it, `BusyError` (503, Retry-After). */
  maxWaiting: number
}

/**
 * Hashing bounded: at most `concurrency` at once, at most `maxWaiting` waiting, in arrival
 * order. New passwords (registrations) may fill only half of the wait, so a flood of sign-ups
 * leaves logins room; past its share, a request is refused at once with `BusyError` rather
 * than queued behind minutes of work.
 */
export function createBoundedHasher(
  inner: PasswordHasher,
  limits: HashQueueLimits,
): PasswordHasher {
  const waiting: (() => void)[] = []
  let running = 0

  async function inTurn<T>(work: () => Promise<T>, share: number): Promise<T> {
    if (running >= limits.concurrency) {
      if (waiting.length >= share) {
        throw new BusyError('Too many requests are being checked right now. Try again shortly.')
      }
      await new Promise<void>((resolve) => waiting.push(resolve))
    } else {
      running++
    }
    try {
      return await work()
    } finally {
      // The turn passes to the next in line, else it is given up.
      const next = waiting.shift()
      if (next) next()
      else running--
    }
  }

  return {
    hash: (password) => inTurn(() => inner.hash(password), Math.floor(limits.maxWaiting / 2)),
    verify: (password, stored) => inTurn(() => inner.verify(password, stored), limits.maxWaiting),
  }
}
