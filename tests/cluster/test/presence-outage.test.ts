import { startDeployment, startRedisServer } from '@finchat/testing'
import t from 'tap'
import { FatalAnswer, needsServers, partedBy, until, users } from './cluster-story.js'

// Redis goes away for 30 s and comes back with its data (it persists, as compose runs it).
// Meanwhile three users close their tabs: their instances could not release them nor record
// their partings. Once Redis is back the instances find the records nothing holds any more,
// announce those partings and free those users, who get back in without `already-chatting`.

const ROOM = 'friends'
const LEAVERS = ['ann', 'ben', 'cat']

t.test('users who left during a Redis outage are not locked out after it', async (t) => {
  if (needsServers) {
    t.pass('skipped: needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)')
    return
  }
  const redis = await startRedisServer(t, { persistent: true })
  const deployment = await startDeployment(t, { redisUrl: redis.url })
  await deployment.createRooms(ROOM)
  const people = users(t, deployment)
  const watcher = await people.user('watcher')
  await watcher.join(ROOM)
  const leavers = []
  for (const name of LEAVERS) {
    const client = await people.user(name)
    await client.join(ROOM)
    leavers.push(client)
  }
  const partings = Promise.all(LEAVERS.map((name) => watcher.next(partedBy(name, ROOM), 120_000)))

  await redis.stop('SIGTERM')
  const stoppedAt = Date.now()
  await until(`${deployment.chats[0]?.url}/readyz`, 503)
  // Their tabs close: the instances try to release them, and cannot.
  await Promise.all(leavers.map((client) => client.close()))
  await new Promise((resolve) => setTimeout(resolve, 30_000 - (Date.now() - stoppedAt)))

  await redis.start()
  const back = Date.now()
  for (const chat of deployment.chats) await until(`${chat.url}/readyz`, 200)

  // Each reconnects as a user would, retrying what fails; `already-chatting` is counted.
  const lockedOut: string[] = []
  await Promise.all(
    LEAVERS.map(async (name) => {
      for (;;) {
        try {
          const client = await people.connect(name)
          t.pass(`${name} is back in ${Date.now() - back} ms after Redis`)
          return client
        } catch (error) {
          if (!(error instanceof FatalAnswer)) throw error
          t.equal(error.frame.type === 'fatal' && error.frame.code, 'already-chatting')
          lockedOut.push(name)
          if (Date.now() - back > 10_000) throw error
          await new Promise((resolve) => setTimeout(resolve, 250))
        }
      }
    }),
  )
  t.ok(Date.now() - back < 10_000, `all three back within 10 s (${Date.now() - back} ms)`)
  t.comment(`already-chatting answers meanwhile: ${lockedOut.length}`)

  await partings
  t.pass('the watcher saw all three leave')
  const fresh = await people.user('newcomer')
  const joined = await fresh.join(ROOM)
  t.same(
    joined.status?.users.map((u) => u.name),
    ['newcomer', 'watcher'],
    "a fresh joiner's user list is exact: no ghost",
  )
})
