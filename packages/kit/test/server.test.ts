import { Type } from '@sinclair/typebox'
import t from 'tap'
import { apiDocsPlugin, createServer } from '../src/index.js'

t.test('every service answers health, readiness and metrics', async (t) => {
  const app = await createServer({ logger: false })
  t.teardown(() => app.close())
  let databaseUp = true
  app.readiness.add('database', async () => databaseUp)
  app.readiness.add('hangs', () => new Promise<boolean>(() => {}).then(() => true))
  app.get('/boom', async () => {
    throw new Error('secret internals')
  })

  t.same((await app.inject('/healthz')).json(), { status: 'ok' })

  const notReady = await app.inject('/readyz')
  t.equal(notReady.statusCode, 503, 'a dependency that never answers makes it not ready')
  t.same(notReady.json().checks, { database: true, hangs: false })

  databaseUp = false
  t.same((await app.inject('/readyz')).json().checks.database, false)

  const metrics = await app.inject('/metrics')
  t.equal(metrics.statusCode, 200)
  t.match(metrics.body, /nodejs_eventloop_lag_seconds/)
  t.match(metrics.body, /http_request_duration_seconds_bucket/)

  const boom = await app.inject('/boom')
  t.equal(boom.statusCode, 500)
  t.same(boom.json(), { detail: 'Internal server error.' }, 'no internals leak')
  t.equal((await app.inject('/nowhere')).statusCode, 404)
})

t.test('routes are documented at /openapi.json, and shown at /docs', async (t) => {
  const app = await createServer({ logger: false, title: 'Test API' })
  t.teardown(() => app.close())
  await app.register(apiDocsPlugin)
  app.post(
    '/things',
    {
      schema: {
        body: Type.Object({ name: Type.String() }),
        response: { 201: Type.Object({ id: Type.Integer() }) },
      },
    },
    async (_request, reply) => reply.code(201).send({ id: 1 }),
  )
  const document = (await app.inject('/openapi.json')).json()
  t.equal(document.info.title, 'Test API')
  t.match(document.paths['/things'].post, { requestBody: Object, responses: { 201: Object } })
  t.notOk(document.paths['/healthz'], 'operational routes are left out')
  t.same((await app.inject('/docs/json')).json().paths, document.paths)
  t.match((await app.inject('/docs')).body, /swagger/i, 'the UI is there')
})
