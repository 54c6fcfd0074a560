import type { ServerFrame } from '@finchat/protocol'
import { ChatClient } from '@finchat/protocol/client'
import { startDeployment, startRedisServer } from '@finchat/testing'
import t, { type Test } from 'tap'
import { needsServers, until, users } from './cluster-story.js'

// A logout or a room deletion while Redis is down is not half done: it is committed with its
// announcement, which reaches every instance once Redis is back, even back empty. And a Redis
// that lost its data does not forget who logged out: the list is loaded again from auth's table.

/**
 * How a handshake with `token` is answered: the first frame, or why none came (the socket
 * closed first, or the upgrade was refused).
 */
async function answerTo(wsUrl: string, token: string): Promise<ServerFrame | string> {
  let client: ChatClient
  try {
    client = await ChatClient.connect(wsUrl, { token })
  } catch (error) {
    return `upgrade refused: ${(error as Error).message}`
  }
  try {
    return await client.next(undefined, 10_000)
  } catch {
    return `closed with ${(await client.closed).code}`
  } finally {
    client.close()
  }
}

/**
 * The token is refused at `wsUrl`: `not-authenticated` once the instance can tell; while it
 * cannot (the list being loaded again, Redis just back) it closes (1013) or is not reached —
 * never lets the token in.
 */
async function refusedBy(t: Test, wsUrl: string, token: string, within = 10_000) {
  const started = Date.now()
  const meanwhile = new Set<string>()
  for (;;) {
    const answer = await answerTo(wsUrl, token)
    if (typeof answer === 'string') meanwhile.add(answer)
    else if (answer.type === 'fatal' && answer.code === 'not-authenticated') {
      const waited = Date.now() - started
      t.pass(
        `${wsUrl} refuses the token (${waited} ms${meanwhile.size ? `; before: ${[...meanwhile].join(', ')}` : ''})`,
      )
      return
    } else {
      t.fail(`${wsUrl} answered the revoked token`, { answer })
      return
    }
    if (Date.now() - started > within) {
      t.fail(`${wsUrl} could not tell in ${within} ms`, { meanwhile: [...meanwhile] })
      return
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

t.test('logouts and room deletions across a Redis outage', async (t) => {
  if (needsServers) {
    t.pass('skipped: needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)')
    return
  }
  const redis = await startRedisServer(t)
  const deployment = await startDeployment(t, { redisUrl: redis.url })
  await deployment.createRooms('friends', 'doomed')
  const people = users(t, deployment)
  const alice = await people.user('alice')
  const bob = await people.user('bob')
  const carol = await people.user('carol')
  await alice.join('friends')
  await bob.join('friends')
  await bob.join('doomed')
  await carol.join('doomed')
  const instances = deployment.chats.map((chat) => `${chat.url.replace('http', 'ws')}/ws/chat`)
  const aliceToken = people.tokens.get('alice') as string

  await t.test('Redis stopped during a logout and a room deletion', async (t) => {
    await redis.stop('SIGKILL')
    await until(`${deployment.auth.url}/readyz`, 503)

    const logout = await fetch(`${deployment.url}/logout`, {
      method: 'POST',
      headers: { authorization: `Token ${aliceToken}` },
    })
    t.equal(logout.status, 204, 'the logout is committed (its announcement waits for Redis)')
    t.match(await deployment.rooms.delete('doomed'), { name: 'doomed' }, 'the room is deleted')
    const loggedOut = alice.next(
      (f) => f.type === 'notification' && f.code === 'logged-out',
      30_000,
    )
    const bobParted = bob.next(
      (f) => f.type === 'room:notification' && f.code === 'parted' && f.room_name === 'doomed',
      30_000,
    )
    const carolParted = carol.next(
      (f) => f.type === 'room:notification' && f.code === 'parted' && f.room_name === 'doomed',
      30_000,
    )

    // Back without its data: no revocation list, no streams.
    await redis.start()
    const back = Date.now()
    await loggedOut
    t.ok(Date.now() - back < 5000, `alice's socket got logged-out ${Date.now() - back} ms after`)
    t.equal((await alice.closed).code, 1000, 'and was closed')
    t.match(await bobParted, { user: 'bob', you: true }, 'bob parted from the deleted room')
    t.match(await carolParted, { user: 'carol', you: true }, 'carol too')
    t.ok(Date.now() - back < 5000, `members parted within 5 s (${Date.now() - back} ms)`)

    for (const wsUrl of [...instances, deployment.wsUrl]) await refusedBy(t, wsUrl, aliceToken)
    const admin = await fetch(`${deployment.url}/admin/rooms`, {
      headers: { authorization: `Token ${aliceToken}` },
    })
    t.equal(admin.status, 401, "chat's REST refuses the token too")
    t.match(await bob.say('friends', 'bob still here'), { body: 'bob still here' })
  })

  await t.test('Redis restarted empty after a logout: the token stays refused', async (t) => {
    const bobToken = people.tokens.get('bob') as string
    const closed = bob.next((f) => f.type === 'notification' && f.code === 'logged-out')
    await people.api.logout(bobToken)
    await closed
    for (const wsUrl of instances) await refusedBy(t, wsUrl, bobToken)

    await redis.stop('SIGKILL')
    await redis.start()
    for (const wsUrl of [...instances, deployment.wsUrl]) await refusedBy(t, wsUrl, bobToken)
    const profile = await fetch(`${deployment.url}/profile`, {
      headers: { authorization: `Token ${bobToken}` },
    })
    t.equal(profile.status, 401, 'and by the API')

    // Everybody else gets in as before.
    const dave = await people.user('dave')
    const joined = await dave.join('friends')
    t.same(
      joined.status?.users.map((u) => u.name).sort(),
      ['dave'],
      'a fresh joiner finds only who is there',
    )
    dave.send({ type: 'list' })
    t.match(
      await dave.next((f) => f.type === 'notification' && f.code === 'list'),
      { list: [{ name: 'friends', joined: true }] },
      'the deleted room is gone',
    )
  })
})
