import t from 'tap'
import { joinStorm } from '../src/modes/join-storm.js'
import { startBaseline } from '../src/targets/baseline-target.js'

t.test('joins under fan-out load are counted and timed', async (t) => {
  const target = await startBaseline()
  t.teardown(() => target.stop())
  const result = await joinStorm(target, {
    rooms: 2,
    clientsPerRoom: 3,
    ratePerClient: 25,
    durationMs: 1000,
    drainMs: 300,
    joiners: 2,
    joinIntervalMs: 50,
  })
  t.ok(result.joins >= 20, `${result.joins} joins`)
  t.equal(result.failedJoins, 0)
  t.ok(result.join.p50 > 0 && result.join.p50 <= result.join.p99)
  t.equal(result.fewestHistoryMessages, 0, 'the baseline keeps no history')
  t.ok(result.fanout.sent > 0)
  t.equal(result.fanout.loss, 0)
  t.equal(result.fanout.errors, 0)
})
