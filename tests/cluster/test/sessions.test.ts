import { ChatClient } from '@finchat/protocol/client'
import { PASSWORD, startDeployment } from '@finchat/testing'
import t from 'tap'
import { connectionsOn, needsServers, users } from './cluster-story.js'

// Sessions across the deployment: a logout reaches the one connection it opened, wherever it
// is; a revoked token is refused by every instance; guessing passwords is cut short.

t.test('sessions across instances', async (t) => {
  if (needsServers) {
    t.pass('skipped: needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)')
    return
  }
  const deployment = await startDeployment(t)
  await deployment.createRooms('friends')
  const people = users(t, deployment)
  const [first, second] = deployment.chats
  if (!first || !second) throw new Error('two chat instances expected')

  const before = await connectionsOn(first.url)
  const alice = await people.user('alice')
  const aliceOnFirst = (await connectionsOn(first.url)) > before
  const bob = await people.user('bob')
  t.not((await connectionsOn(first.url)) - before, 2, 'alice and bob are on different instances')
  await alice.join('friends')
  await bob.join('friends')

  await t.test('logging out another session of the same user leaves this one alone', async (t) => {
    const other = await people.api.login({ username: 'alice', password: PASSWORD })
    await people.api.logout(other)
    const said = await alice.say('friends', 'still here')
    t.match(said, { body: 'still here' })
  })

  await t.test('logout closes the connection it opened, on whichever instance', async (t) => {
    await people.api.logout(people.tokens.get('alice') as string)
    t.match(await alice.next((f) => f.type === 'notification'), {
      type: 'notification',
      code: 'logged-out',
    })
    t.equal((await alice.closed).code, 1000)
    t.match(
      await bob.next((f) => f.type === 'room:notification' && f.code === 'parted'),
      { user: 'alice' },
      'bob sees alice leave',
    )
    t.match(await bob.say('friends', 'bob carries on'), { body: 'bob carries on' })
    t.comment(`alice was on the ${aliceOnFirst ? 'first' : 'second'} instance`)
  })

  await t.test('the revoked token is refused by every instance and by the API', async (t) => {
    const revoked = people.tokens.get('alice') as string
    for (const chat of [first, second]) {
      const client = await ChatClient.connect(`${chat.url.replace('http', 'ws')}/ws/chat`, {
        token: revoked,
      })
      t.match(await client.next(), { type: 'fatal', code: 'not-authenticated' }, chat.url)
      await client.closed
    }
    const profile = await fetch(`${deployment.url}/profile`, {
      headers: { authorization: `Token ${revoked}` },
    })
    t.equal(profile.status, 401)
    t.same(await profile.json(), { detail: 'Invalid token.' })
  })

  await t.test('guessing a password gets 429 after ten failures', async (t) => {
    const statuses: number[] = []
    for (let i = 0; i < 12; i++) {
      const response = await fetch(`${deployment.url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'bob', password: `guess-${i}` }),
      })
      statuses.push(response.status)
    }
    t.same(statuses.slice(0, 10), Array(10).fill(400))
    t.same(statuses.slice(10), [429, 429])
    const right = await fetch(`${deployment.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'bob', password: PASSWORD }),
    })
    t.equal(right.status, 429, 'even the right password waits: the limit is on the account')
  })

  await t.test('200 guesses at once through port 8000: exactly ten reach the hash', async (t) => {
    await people.api.register({ username: 'carol', password: PASSWORD })
    const statuses = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        fetch(`${deployment.url}/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'carol', password: `parallel-guess-${i}` }),
        }).then((response) => response.status),
      ),
    )
    t.equal(statuses.filter((status) => status === 400).length, 10, 'checked: the budget')
    t.equal(statuses.filter((status) => status === 429).length, 190, 'refused before the hash')
  })
})
