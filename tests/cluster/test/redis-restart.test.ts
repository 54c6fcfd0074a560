import { startDeployment, startRedisServer } from '@finchat/testing'
import t from 'tap'
import { isMessage, needsServers, until, users } from './cluster-story.js'

// Redis goes away under a running deployment and comes back empty: the services stay up, say
// they are not ready meanwhile, recover by themselves, and no message is acknowledged and
// then lost. Redis comes back without the presence records, so the chat instances close
// their connections with 1012 and the clients, reconnecting, rebuild them.

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

  await redis.stop('SIGKILL')
  for (const service of services) {
    const ms = await until(`${service.url}/readyz`, 503)
    t.pass(`${service.url} reports not ready (${ms} ms)`)
  }
  // Sent while Redis is gone: each one ends echoed (stored and delivered), refused, or without
  // an answer because the connection was closed (then the client looks at the history).
  const during = ['during 1', 'during 2', 'during 3']
  const outcomes = during.map((body) => {
    alice.send({ type: 'message', room_name: ROOM, body })
    return alice
      .next(
        (f) =>
          (f.type === 'room:notification' && f.code === 'message' && f.you && f.body === body) ||
          f.type === 'error',
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

  // Every instance finds its presence records gone and tells its clients to reconnect (1012).
  // They come back as the web UI and the bot do: reconnect and rejoin whenever told to, until
  // the exchange below goes through. An instance may evict twice while it re-registers, and a
  // reconnection may meet already-chatting meanwhile; both are tried again.
  for (const [name, client] of [
    ['alice', alice],
    ['bob', bob],
  ] as const) {
    const closed = await Promise.race([
      client.closed,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 20_000)),
    ])
    t.equal(closed?.code, 1012, `${name} was told to reconnect`)
  }
  // Known gap, marked todo: after Redis loses its data, an instance may evict twice and a user's
  // claim can stay held, so reconnecting users keep meeting 1012 or already-chatting.
  await t.test(
    'after the restart, users reconnect and chat again, and nothing refused is kept',
    { todo: 'presence is not reliably rebuilt after Redis loses its data (docs/reliability.md)' },
    async (t) => {
      const connectAndJoin = async (name: string) => {
        const client = await people.connect(name)
        await client.join(ROOM)
        return client
      }
      let exchanged = false
      for (let attempt = 1; attempt <= 10 && !exchanged; attempt++) {
        try {
          const [alice2, bob2] = await Promise.all([connectAndJoin('alice'), connectAndJoin('bob')])
          // Fan-out works again, both ways.
          await alice2.say(ROOM, `after the outage ${attempt}`)
          await bob2.next(isMessage(`after the outage ${attempt}`), 10_000)
          await bob2.say(ROOM, `bob after the outage ${attempt}`)
          await alice2.next(isMessage(`bob after the outage ${attempt}`), 10_000)
          exchanged = true
          t.comment(`fan-out back at attempt ${attempt}`)
        } catch (error) {
          // Told to reconnect again, or the claim of the evicted connection not yet released: a
          // client tries again shortly (known rough edge of presence after Redis loses its data).
          if (!/1012|already-chatting/.test(String(error))) throw error
          await new Promise((resolve) => setTimeout(resolve, 500))
        }
      }
      t.ok(exchanged, 'fan-out works again, both ways')
      // The history holds what was echoed and not what was refused.
      const carol = await people.user('carol')
      const joined = await carol.join(ROOM)
      t.same(
        joined.status?.users.map((u) => u.name),
        ['alice', 'bob', 'carol'],
        'nobody twice, no ghost',
      )
      const history = joined.status?.messages.map((m) => m.body) ?? []
      for (const [i, body] of during.entries()) {
        if (echoed.includes(body)) t.ok(history.includes(body), `"${body}" was echoed and is kept`)
        if (results[i]?.type === 'error')
          t.notOk(history.includes(body), `"${body}" was refused and is not kept`)
      }
      t.comment(
        `during the outage: ${echoed.length} echoed, ${refused.length} refused, ${during.length - echoed.length - refused.length} unanswered (connection closed)`,
      )
    },
  )
})
