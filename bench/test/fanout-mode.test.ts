import t from 'tap'
import { fanoutMode } from '../src/modes/fanout-mode.js'
import { startBaseline } from '../src/targets/baseline-target.js'

t.test('fan-out reports what it cost the target', async (t) => {
  const target = await startBaseline()
  t.teardown(() => target.stop())
  const result = await fanoutMode(target, {
    rooms: 2,
    clientsPerRoom: 3,
    ratePerClient: 20,
    durationMs: 1000,
    drainMs: 300,
  })
  t.equal(result.deliveries, result.sent * 3)
  t.ok(result.cpuSeconds > 0, 'sending 120 messages to 3 recipients each costs the server CPU')
  t.same(Object.keys(result.cpuSecondsByProcess), ['baseline'])
  t.equal(result.cpuSecondsByProcess.baseline, result.cpuSeconds)
  t.equal(result.cpuMicrosPerDelivery, (result.cpuSeconds * 1e6) / result.deliveries)
  t.ok(result.peakRssMiB > 0)
})
