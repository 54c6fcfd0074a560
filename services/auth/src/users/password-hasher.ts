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
 * so raising it later leaves existing hashes verifiable. The default, N = 2^15 (32 MiB), r = 8,
 * p = 3, is one of OWASP's scrypt settings (Password Storage Cheat Sheet), which it rates as
 * equal to N = 2^17, p = 1, at a quarter of the memory per hash. A hash is checked with the
 * settings stored in it, so hashes made with others (p = 1 before) keep verifying.
 */
export function createScryptHasher(logN = 15, p = 3): PasswordHasher {
  const r = 8
  const options = (log: number, blockSize: number, parallel: number): ScryptOptions => ({
    N: 2 ** log,
    r: blockSize,
    p: parallel,
    maxmem: 256 * 2 ** log * blockSize,
  })
  return {
    async hash(password) {
      const salt = randomBytes(16)
      const key = await derive(password, salt, options(logN, r, p))
      return ['scrypt', logN, r, p, salt.toString('base64'), key.toString('base64')].join('$')
    },
    async verify(password, stored) {
      const [scheme, log, blockSize, parallel, salt, key] = stored.split('$')
      const [l, b, q] = [Number(log), Number(blockSize), Number(parallel)]
      const sane = l >= 1 && l <= 22 && b >= 1 && b <= 32 && q >= 1 && q <= 16
      if (scheme !== 'scrypt' || !sane || !salt || !key) return false
      const expected = Buffer.from(key, 'base64')
      const actual = await derive(password, Buffer.from(salt, 'base64'), options(l, b, q))
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
