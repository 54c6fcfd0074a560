import t from 'tap'
import { idleConnections } from '../src/modes/idle-connections.js'
import { startBaseline } from '../src/targets/baseline-target.js'

t.test('idle connections cost the server memory, reported per connection', async (t) => {
  const target = await startBaseline()
  t.teardown(() => target.stop())
  const result = await idleConnections(target, { connections: 500, settleMs: 300 })
  t.equal(result.connections, 500)
  t.ok(result.rssBeforeMiB > 0)
  t.equal(result.kibPerConnection, ((result.rssAfterMiB - result.rssBeforeMiB) * 1024) / 500)
  t.ok(
    result.heapKibPerConnection > 0,
    `${result.heapKibPerConnection.toFixed(2)} KiB of heap each`,
  )
})
