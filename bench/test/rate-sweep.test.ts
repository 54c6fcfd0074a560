import t from 'tap'
import { rateSweep } from '../src/modes/rate-sweep.js'
import { startBaseline } from '../src/targets/baseline-target.js'

// The sweep's strategy, against the baseline with a tiny load.

const size = { rooms: 2, clientsPerRoom: 3, durationMs: 500, drainMs: 200 }

t.test('doubles the rate until its cap when every step passes', async (t) => {
  const target = await startBaseline()
  t.teardown(() => target.stop())
  // Every step passes because the test says so, as every step fails in the next story: a limit
  // and a drain of 2 s, where the default 100 ms p99 failed the first step once on a loaded CI
  // machine (the strategy, not the machine, is what this checks).
  const lenient = { p99LimitMs: 2000, drainMs: 2000 }
  const result = await rateSweep(target, { ...size, ...lenient, maxRate: 6 })
  t.same(
    result.steps.map((step) => step.ratePerClient),
    [1, 2, 4, 6],
    JSON.stringify(result.steps),
  )
  t.equal(result.ratePerClient, 6, 'the cap, the highest rate tried')
  t.ok(result.deliveriesPerSecond > 0)
  t.ok(result.p99 > 0 && result.p99 < lenient.p99LimitMs)
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
