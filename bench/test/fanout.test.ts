import t from 'tap'
import { startBaselineServer } from '../src/baseline-server.js'
import { runFanout } from '../src/fanout.js'

// The load generator against the baseline, briefly: what `pnpm bench` counts adds up.

t.test('every message reaches every member of its room, and is timed', async (t) => {
  const server = await startBaselineServer()
  t.teardown(() => server.close())
  const result = await runFanout({
    wsUrls: [server.wsUrl],
    tokens: Array.from({ length: 6 }, (_, i) => `user${i}`),
    rooms: 2,
    clientsPerRoom: 3,
    ratePerClient: 10,
    durationMs: 1000,
    drainMs: 500,
  })
  t.ok(result.sent >= 40, `${result.sent} sent`)
  t.equal(result.deliveries, result.sent * 3, 'each message to the 3 members of its room')
  t.equal(result.loss, 0)
  t.equal(result.errors, 0)
  t.ok(result.latency.p50 > 0 && result.latency.p50 <= result.latency.p99)
  t.ok(result.latency.p99 <= result.latency.max)
  t.ok(result.generatorCpuSeconds > 0, 'the generator reports its own CPU')
  t.ok(result.generatorCpu > 0 && result.generatorCpu < 4, 'as a fraction of one core')
  t.ok(result.windowSeconds >= 1.5, 'over the sending and the drain')
})

t.test('only messages sent in the measured window are counted', async (t) => {
  const server = await startBaselineServer()
  t.teardown(() => server.close())
  const result = await runFanout({
    wsUrls: [server.wsUrl],
    tokens: Array.from({ length: 6 }, (_, i) => `user${i}`),
    rooms: 2,
    clientsPerRoom: 3,
    ratePerClient: 20,
    warmupMs: 1000,
    durationMs: 500,
    drainMs: 300,
  })
  // 6 clients × 20 msg/s × 0.5 s, give or take one message each at either edge.
  t.ok(result.sent >= 48 && result.sent <= 72, `${result.sent} sent`)
  t.equal(result.deliveries, result.sent * 3)
  t.equal(result.loss, 0)
  t.equal(result.sentPerSecond, result.sent / 0.5)
})
