import { PASSWORD, startDeployment, startPostgresServer } from '@finchat/testing'
import t from 'tap'
import { isMessage, needsServers, until, users } from './cluster-story.js'

// PostgreSQL goes away under a running deployment and comes back: clients get errors, not
// silence; nothing crashes; everything works again by itself.

const ROOM = 'friends'

t.test('PostgreSQL stopped and started under the deployment', async (t) => {
  if (needsServers) {
    t.pass('skipped: needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)')
    return
  }
  const postgres = await startPostgresServer(t)
  const deployment = await startDeployment(t, { databaseUrl: postgres.url })
  await deployment.createRooms(ROOM, 'family')
  const people = users(t, deployment)
  const alice = await people.user('alice')
  const bob = await people.user('bob')
  await alice.join(ROOM)
  await bob.join(ROOM)
  await alice.say(ROOM, 'before the outage')
  await bob.next(isMessage('before the outage'))
  const services = [deployment.auth, ...deployment.chats]

  await postgres.stop()
  for (const service of services) {
    const ms = await until(`${service.url}/readyz`, 503)
    t.pass(`${service.url} reports not ready (${ms} ms)`)
  }

  await t.test('while it is gone, clients get errors and keep their connections', async (t) => {
    alice.send({ type: 'message', room_name: ROOM, body: 'lost in the outage?' })
    t.match(await alice.next((f) => f.type === 'error', 15_000), {
      type: 'error',
      code: 'internal-error',
    })
    alice.send({ type: 'join', room_name: 'family' })
    t.match(await alice.next((f) => f.type === 'error', 15_000), { code: 'internal-error' })
    const login = await fetch(`${deployment.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: PASSWORD }),
    })
    t.ok(login.status >= 500 && login.status < 600, `login answers ${login.status}`)
    t.match(await login.json(), { detail: String }, 'with a JSON error')
    t.equal(alice.socket.readyState, alice.socket.OPEN, "alice's connection stays open")
    for (const service of [...services, deployment.gateway]) {
      t.equal(service.process.exitCode, null, `${service.url} stays up`)
    }
  })

  await postgres.start()
  for (const service of services) {
    const ms = await until(`${service.url}/readyz`, 200)
    t.pass(`${service.url} ready again (${ms} ms after PostgreSQL)`)
  }

  await t.test(
    'back: messages, joins and logins work, and the refused message was not kept',
    async (t) => {
      await alice.say(ROOM, 'after the outage')
      t.ok(await bob.next(isMessage('after the outage'), 10_000))
      const family = await alice.join('family')
      t.same(
        family.status?.users.map((u) => u.name),
        ['alice'],
      )
      const token = await people.api.login({ username: 'alice', password: PASSWORD })
      t.ok(token.length > 20, 'login works')
      const joined = await (await people.user('carol')).join(ROOM)
      const history = joined.status?.messages.map((m) => m.body)
      t.same(history, ['after the outage', 'before the outage'])
    },
  )
})
