import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import t from 'tap'
import {
  createMemoryLoginLimiter,
  createRedisLoginLimiter,
  type LoginLimiter,
  type LoginLimits,
} from '../../src/limits/login-limiter.js'

const waitOf = async (limiter: LoginLimiter, username: string, ip: string) => {
  const attempt = await limiter.reserve(username, ip)
  return attempt.granted ? null : attempt.retryAfter
}

t.test('failures expire with their window', async (t) => {
  let now = 0
  const limiter = createMemoryLoginLimiter(
    { maxFailuresPerUser: 2, maxFailuresPerIp: 10, windowSeconds: 60 },
    () => now,
  )
  t.equal(await waitOf(limiter, 'Alice', '1.2.3.4'), null)
  t.equal(await waitOf(limiter, 'alice', '1.2.3.4'), null)
  t.equal(await waitOf(limiter, 'ALICE', '5.6.7.8'), 60, 'per username, any case, any address')
  now = 30_000
  t.equal(await waitOf(limiter, 'alice', '1.2.3.4'), 30)
  now = 60_000
  t.equal(await waitOf(limiter, 'alice', '1.2.3.4'), null, 'a new window')
})

/** Both limiters, as auth processes use them: in memory, and shared through Redis. */
const limiters: [string, (limits: LoginLimits) => LoginLimiter][] = [
  ['in memory', (limits) => createMemoryLoginLimiter(limits)],
]
if (process.env.REDIS_URL) {
  const redis = new Redis(process.env.REDIS_URL)
  const prefix = `test:${randomBytes(4).toString('hex')}:`
  t.teardown(async () => {
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length) await redis.del(...keys)
    redis.disconnect()
  })
  limiters.push([
    'in Redis',
    (limits) =>
      createRedisLoginLimiter(redis, limits, `${prefix}${randomBytes(2).toString('hex')}:`),
  ])
}

for (const [where, create] of limiters) {
  t.test(`${where}: parallel attempts never take more than the budget`, async (t) => {
    const limiter = create({ maxFailuresPerUser: 5, maxFailuresPerIp: 100, windowSeconds: 60 })
    const waits = await Promise.all(
      Array.from({ length: 50 }, () => waitOf(limiter, 'carol', '10.0.0.1')),
    )
    t.equal(waits.filter((wait) => wait === null).length, 5, 'five attempts granted')
    t.ok(
      waits.every((wait) => wait === null || (wait >= 1 && wait <= 60)),
      'the others are told how long to wait',
    )
  })

  t.test(`${where}: a success, or an error, gives its attempt back`, async (t) => {
    const limiter = create({ maxFailuresPerUser: 2, maxFailuresPerIp: 100, windowSeconds: 60 })
    for (let i = 0; i < 5; i++) {
      const attempt = await limiter.reserve('dave', '10.0.0.2')
      if (!attempt.granted) throw new Error('refused')
      await (i % 2 ? attempt.succeeded() : attempt.cancel())
    }
    t.equal(await waitOf(limiter, 'dave', '10.0.0.2'), null, 'one failure')
    t.equal(await waitOf(limiter, 'dave', '10.0.0.2'), null, 'two failures')
    t.not(await waitOf(limiter, 'dave', '10.0.0.2'), null, 'the budget is used up')
  })

  t.test(`${where}: the address budget stops many names`, async (t) => {
    const limiter = create({ maxFailuresPerUser: 100, maxFailuresPerIp: 3, windowSeconds: 60 })
    const waits = await Promise.all(
      Array.from({ length: 10 }, (_, i) => waitOf(limiter, `name-${i}`, '10.0.0.3')),
    )
    t.equal(waits.filter((wait) => wait === null).length, 3)
    t.equal(await waitOf(limiter, 'name-0', '10.0.0.4'), null, 'another address is not held up')
  })

  t.test(
    `${where}: a stranger's guesses do not lock the owner out where the owner has been`,
    async (t) => {
      const limiter = create({
        maxFailuresPerUser: 3,
        maxFailuresPerIp: 100,
        windowSeconds: 60,
        knownAddressSeconds: 3600,
      })
      const home = '10.0.1.1'
      const first = await limiter.reserve('finbot', home)
      if (!first.granted) throw new Error('refused')
      await first.succeeded()
      for (let i = 0; i < 3; i++) await limiter.reserve('finbot', '10.0.9.9')
      t.not(await waitOf(limiter, 'finbot', '10.0.9.9'), null, 'the stranger is stopped')
      t.not(await waitOf(limiter, 'finbot', '10.0.9.8'), null, 'and so is any new address')
      t.equal(await waitOf(limiter, 'finbot', home), null, 'the owner, from home, is not')
      await waitOf(limiter, 'finbot', home)
      await waitOf(limiter, 'finbot', home)
      t.not(await waitOf(limiter, 'finbot', home), null, 'guesses from home have a budget too')
    },
  )
}
