import t from 'tap'
import { createMemoryLoginLimiter } from '../../src/login/login-limiter.js'

t.test('failures expire with their window', async (t) => {
  let now = 0
  const limiter = createMemoryLoginLimiter(
    { maxFailuresPerUser: 2, maxFailuresPerIp: 10, windowSeconds: 60 },
    () => now,
  )
  await limiter.recordFailure('Alice', '1.2.3.4')
  t.equal(await limiter.retryAfter('alice', '1.2.3.4'), null)
  await limiter.recordFailure('alice', '1.2.3.4')
  t.equal(await limiter.retryAfter('ALICE', '5.6.7.8'), 60, 'per username, any case, any address')
  now = 30_000
  t.equal(await limiter.retryAfter('alice', '1.2.3.4'), 30)
  now = 60_000
  t.equal(await limiter.retryAfter('alice', '1.2.3.4'), null)
})
