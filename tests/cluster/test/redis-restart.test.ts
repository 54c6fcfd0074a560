import type { ServerFrame } from '@finchat/protocol'
import { startDeployment, startRedisServer } from '@finchat/testing'
import t from 'tap'
import { isMessage, needsServers, until, users } from './cluster-story.js'

// Redis goes away under a running deployment and comes back empty: the services stay up, say
// they are not ready meanwhile, recover by themselves, and no message is acknowledged and
// then lost. Redis comes back without the presence records, which the chat instances write
// again for the connections they hold.

const ROOM = 'friends'

t.test('Redis restarted under the deployment', async (t) => {
  if (needsServers) {
    t.pass('skipped: needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)')
    return
  }
  const redis = await startRedisServer(t)
  const deployment = await startDeployment(t, { redisUrl: redis.url })
  await deployment.createRooms(ROOM)
  const people = users(t, deployment)
  const alice = await people.user('alice')
  const bob = await people.user('bob')
  await alice.join(ROOM)
  await bob.join(ROOM)
  await alice.say(ROOM, 'before the outage')
  await bob.next(isMessage('before the outage'))
  const services = [deployment.auth, ...deployment.chats]
  let closedConnections = 0
  for (const client of [alice, bob]) void client.closed.then(() => closedConnections++)

  await redis.stop('SIGKILL')
  for (const service of services) {
    const ms = await until(`${service.url}/readyz`, 503)
    t.pass(`${service.url} reports not ready (${ms} ms)`)
  }
  // Sent while Redis is gone: each one ends echoed (stored and delivered) or refused.
  const during = ['during 1', 'during 2', 'during 3']
  const clientIdOf = (body: string) => `restart-${body.replace(' ', '-')}`
  const echoOf = (body: string) => (f: ServerFrame) =>
    f.type === 'room:notification' && f.code === 'message' && f.you && f.body === body
  const outcomes = during.map((body) => {
    alice.send({ type: 'message', room_name: ROOM, body, client_id: clientIdOf(body) })
    return alice
      .next(
        (f) =>
          echoOf(body)(f) ||
          (f.type === 'error' && 'client_id' in f && f.client_id === clientIdOf(body)),
        60_000,
      )
      .catch(() => undefined)
  })
  await new Promise((resolve) => setTimeout(resolve, 1500))

  await redis.start()
  for (const service of services) {
    const ms = await until(`${service.url}/readyz`, 200)
    t.pass(`${service.url} ready again (${ms} ms after Redis)`)
  }
  for (const service of [...services, deployment.gateway]) {
    t.equal(service.process.exitCode, null, `${service.url} stayed up`)
  }

  const results = await Promise.all(outcomes)
  const echoed = during.filter((_, i) => results[i]?.type === 'room:notification')
  const refused = results.filter((f) => f?.type === 'error')
  t.same(
    refused.map((f) => (f as { code: string }).code),
    refused.map(() => 'internal-error'),
    'a message that could not go through was refused with internal-error',
  )
  t.equal(echoed.length + refused.length, during.length, 'every message got an answer')

  // Redis came back without the presence records; nobody reaped anyone, so the instances
  // register again what their connections hold, and the clients never notice.
  t.equal(closedConnections, 0, 'the clients stayed connected')
  await alice.say(ROOM, 'after the outage')
  await bob.next(isMessage('after the outage'), 10_000)
  await bob.say(ROOM, 'bob after the outage')
  await alice.next(isMessage('bob after the outage'), 10_000)
  t.pass('fan-out works again, both ways')

  // A refused message may be stored all the same, when the stream could not tell whether it
  // reached the room: sent again under its client_id, it is answered, and stored once.
  for (const [i, body] of during.entries()) {
    if (results[i]?.type !== 'error') continue
    alice.send({ type: 'message', room_name: ROOM, body, client_id: clientIdOf(body) })
    await alice.next(echoOf(body), 10_000)
    t.pass(`"${body}", refused, sent again under its client_id: echoed`)
  }

  const carol = await people.user('carol')
  const joined = await carol.join(ROOM)
  t.same(
    joined.status?.users.map((u) => u.name),
    ['alice', 'bob', 'carol'],
    'memberships registered again: nobody missing, nobody twice',
  )
  await t.rejects(people.connect('alice'), /already-chatting/, 'claims registered again')
  const history = joined.status?.messages.map((m) => m.body) ?? []
  for (const body of during) {
    t.equal(history.filter((kept) => kept === body).length, 1, `"${body}" is kept, once`)
  }
  t.comment(`during the outage: ${echoed.length} echoed, ${refused.length} refused`)
})
