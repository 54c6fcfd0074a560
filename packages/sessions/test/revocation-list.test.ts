import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import t from 'tap'
import { createRedisRevocationList, RevocationsUnknownError } from '../src/index.js'

// The list in Redis is a copy of auth's sessions table: when Redis loses it, the list says it
// cannot tell rather than let a revoked token in, until it is loaded again.

t.test('a list that lost its entries refuses to answer until it is loaded', async (t) => {
  if (!process.env.REDIS_URL) {
    t.pass('skipped: needs Redis (REDIS_URL)')
    return
  }
  const redis = new Redis(process.env.REDIS_URL)
  const prefix = `test:${randomBytes(4).toString('hex')}:`
  t.teardown(async () => {
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length) await redis.del(...keys)
    redis.disconnect()
  })
  const forget = async () => {
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length) await redis.del(...keys)
  }
  const list = createRedisRevocationList(redis, prefix)
  const inAnHour = Math.floor(Date.now() / 1000) + 3600

  t.equal(await list.isLoaded(), false, 'never loaded')
  await t.rejects(list.isRevoked('s1'), RevocationsUnknownError)

  await list.load([{ sessionId: 's1', expiresAt: inAnHour }])
  t.equal(await list.isLoaded(), true)
  t.equal(await list.isRevoked('s1'), true)
  t.equal(await list.isRevoked('s2'), false)
  await list.revoke('s2', inAnHour)
  t.equal(await list.isRevoked('s2'), true, 'a revocation counts at once')

  await forget()
  t.equal(await list.isLoaded(), false, 'Redis lost its data')
  await t.rejects(
    list.isRevoked('s2'),
    RevocationsUnknownError,
    'no answer rather than a wrong one',
  )

  // Losing the data again in the middle of a load: the load must not mark the list loaded.
  const pipeline = redis.pipeline.bind(redis)
  redis.pipeline = ((...args: Parameters<typeof pipeline>) => {
    // Sent before the load's writes, on the same connection: Redis restarted just then.
    void redis.del(`${prefix}auth:revocations-loading`)
    return pipeline(...args)
  }) as typeof redis.pipeline
  await t.rejects(list.load([{ sessionId: 's2', expiresAt: inAnHour }]), /lost entries/)
  redis.pipeline = pipeline
  t.equal(await list.isLoaded(), false, 'still not loaded')

  await list.load([{ sessionId: 's2', expiresAt: inAnHour }])
  t.equal(await list.isRevoked('s2'), true, 'loaded again from the durable record')
})
