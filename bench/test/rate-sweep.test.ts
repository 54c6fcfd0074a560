import t from 'tap'
import { rateSweep } from '../src/modes/rate-sweep.js'
import { startBaseline } from '../src/targets/baseline-target.js'

// The sweep's strategy, against the baseline with a tiny load.

const size = { rooms: 2, clientsPerRoom: 3, durationMs: 500, drainMs: 200 }

t.test('doubles the rate until its cap when every step passes', async (t) => {
  const target = await startBaseline()
  t.teardown(() => target.stop())
  const result = await rateSweep(target, { ...size, maxRate: 6 })
  t.same(
    result.steps.map((step) => step.ratePerClient),
    [1, 2, 4, 6],
  )
  t.equal(result.ratePerClient, 6, 'the cap, the highest rate tried')
  t.ok(result.deliveriesPerSecond > 0)
  t.ok(result.p99 > 0 && result.p99 < 100)
})

t.test('bisects below the first failure, and reports 0 when nothing passes', async (t) => {
  const target = await startBaseline()
  t.teardown(() => target.stop())
  // No latency is under a microsecond: every step fails.
  const result = await rateSweep(target, { ...size, maxRate: 8, p99LimitMs: 0.001 })
  t.same(
    result.steps.map((step) => step.ratePerClient),
    [1, 0.5, 0.25],
  )
  t.notOk(result.steps.some((step) => step.passed))
  t.equal(result.ratePerClient, 0)
})
