import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import { pino } from 'pino'
import t, { type Test } from 'tap'
import { createUpstreamPool } from '../src/upstreams/upstream-pool.js'

// How the gateway finds chat instances: a name resolved to every address behind it (as Docker
// DNS does for `--scale chat=N`), each address checked through /readyz.

/** A stand-in chat instance on `address:port` whose readiness the test controls. */
async function fakeInstance(t: Test, address: string, port = 0) {
  let ready = true
  const server: Server = createServer((req, res) => {
    res.writeHead(req.url === '/readyz' && ready ? 200 : 503).end()
  })
  server.listen(port, address)
  await once(server, 'listening')
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  return {
    port: (server.address() as { port: number }).port,
    setReady(value: boolean) {
      ready = value
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** Resolves once `condition` holds, checking at each health round. */
async function until(condition: () => boolean, what: string, timeoutMs = 5000) {
  const started = Date.now()
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

t.test('a name stands for every instance behind it, taken in turn', async (t) => {
  const first = await fakeInstance(t, '127.0.0.1')
  const second = await fakeInstance(t, '127.0.0.2', first.port)
  let addresses = ['127.0.0.1', '127.0.0.2']
  const pool = createUpstreamPool({
    urls: [`http://chat:${first.port}`],
    resolveEveryMs: 100,
    checkEveryMs: 50,
    logger: pino({ level: 'silent' }),
    lookup: async (name) => (name === 'chat' ? addresses : []),
  })
  await pool.start()
  t.teardown(() => pool.stop())
  const one = `http://127.0.0.1:${first.port}`
  const two = `http://127.0.0.2:${first.port}`
  t.same(new Set([pool.pick(), pool.pick()]), new Set([one, two]), 'both, one after the other')

  second.setReady(false)
  await until(() => pool.list().find((u) => u.url === two)?.state === 'alive', 'two is not ready')
  t.same([pool.pick(), pool.pick()], [one, one], 'a ready instance is preferred')

  await first.close()
  await until(() => pool.list().find((u) => u.url === one)?.state === 'down', 'one is down')
  t.equal(pool.pick(), two, 'alive beats nothing')

  const third = await fakeInstance(t, '127.0.0.3', first.port)
  addresses = ['127.0.0.2', '127.0.0.3']
  const three = `http://127.0.0.3:${third.port}`
  await until(() => pool.list().some((u) => u.url === three && u.state === 'ready'), 'scaled')
  t.notOk(
    pool.list().some((u) => u.url === one),
    'a name no longer resolving to it drops it',
  )
  t.equal(pool.pick(), three)

  pool.markDown(three)
  t.equal(pool.pick(), two, 'an instance that failed a request is skipped at once')
  await until(() => pool.list().find((u) => u.url === three)?.state === 'ready', 'three back')
})

t.test('with nothing to pick, the pool says so', async (t) => {
  const pool = createUpstreamPool({
    urls: ['http://127.0.0.1:1'],
    resolveEveryMs: 1000,
    checkEveryMs: 1000,
    logger: pino({ level: 'silent' }),
  })
  await pool.start()
  t.teardown(() => pool.stop())
  t.equal(pool.pick(), undefined)
  t.same(pool.list(), [{ url: 'http://127.0.0.1:1', state: 'down' }])
})
