import t from 'tap'
import { idleConnections } from '../src/modes/idle-connections.js'
import { startBaseline } from '../src/targets/baseline-target.js'

t.test('idle connections cost the server memory, reported per connection', async (t) => {
  const target = await startBaseline()
  t.teardown(() => target.stop())
  const result = await idleConnections(target, { connections: 500, settleMs: 300 })
  t.equal(result.connections, 500)
  t.ok(result.rssBeforeMiB > 0)
  t.ok(result.rssAfterMiB > result.rssHalfMiB, 'the second half of the connections adds memory')
  t.equal(result.kibPerConnection, ((result.rssAfterMiB - result.rssHalfMiB) * 1024) / 250)
  t.ok(result.kibPerConnection > 0, `${result.kibPerConnection.toFixed(1)} KiB per connection`)
})
