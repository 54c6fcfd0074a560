import type { ChatClient } from '@finchat/protocol/client'
import { startDeployment } from '@finchat/testing'
import t from 'tap'
import { connectionsOn, isOwnEcho, needsServers, partedBy, users } from './cluster-story.js'

// Chat instances die (SIGKILL) or stop (SIGTERM) under users in a room spread over both: what
// the users see through port 8000 (the edge), and what the history keeps.

const PARTED_WITHIN_MS = 10_000
const names = (list: Array<{ name: string }> | undefined) => list?.map((u) => u.name)

t.test('a chat instance killed, then one stopped', async (t) => {
  if (needsServers) {
    t.pass('skipped: needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)')
    return
  }
  const deployment = await startDeployment(t)
  await deployment.createRooms('friends')
  const people = users(t, deployment)
  const [first, second] = deployment.chats
  if (!first || !second) throw new Error('two chat instances expected')

  // Six users, and the instance each one landed on.
  const on = new Map<string, 0 | 1>()
  const clients = new Map<string, ChatClient>()
  for (const name of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) {
    const before = await connectionsOn(first.url)
    clients.set(name, await people.user(name))
    on.set(name, (await connectionsOn(first.url)) > before ? 0 : 1)
  }
  const onFirst = [...on].filter(([, i]) => i === 0).map(([name]) => name)
  const onSecond = [...on].filter(([, i]) => i === 1).map(([name]) => name)
  t.ok(onFirst.length >= 2 && onSecond.length >= 2, `spread: ${onFirst} | ${onSecond}`)
  for (const client of clients.values()) await client.join('friends')

  const echoed = new Set<number>()
  const watch = (client: ChatClient) =>
    client.onFrame((f) => {
      if (isOwnEcho(f)) echoed.add(f.id)
    })
  for (const client of clients.values()) watch(client)
  for (const [name, client] of clients) await client.say('friends', `${name} before`)

  await t.test(
    'SIGKILL: partings within 10 s, reconnection at once, nothing echoed lost',
    async (t) => {
      const doomed = onFirst.map((name) => ({ name, client: clients.get(name) as ChatClient }))
      const witness = clients.get(onSecond[0] as string) as ChatClient
      // Messages in flight at the moment of death: some echoed, some perhaps not.
      for (let n = 0; n < 10; n++) {
        for (const { name, client } of doomed) {
          client.send({ type: 'message', room_name: 'friends', body: `${name} in flight ${n}` })
        }
      }
      const killedAt = performance.now()
      await first.stop('SIGKILL')
      const parted = await Promise.all(
        doomed.map(async ({ name }) => {
          await witness.next(partedBy(name, 'friends'), PARTED_WITHIN_MS)
          return performance.now() - killedAt
        }),
      )
      t.ok(Math.max(...parted) < PARTED_WITHIN_MS, `parted after ${parted.map(Math.round)} ms`)

      for (const { name, client } of doomed) {
        await client.closed
        const again = await people.connect(name)
        watch(again)
        clients.set(name, again)
        const joined = await again.join('friends')
        t.equal(
          new Set(names(joined.status?.users)).size,
          names(joined.status?.users)?.length,
          `${name} back in: nobody twice`,
        )
      }
      const check = await people.user('grace')
      clients.set('grace', check)
      const joined = await check.join('friends')
      t.same(
        names(joined.status?.users),
        ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace'],
        'every user once, no ghost',
      )
      const history = new Set(joined.status?.messages.map((m) => m.id))
      t.same(
        [...echoed].filter((id) => !history.has(id)),
        [],
        `all ${echoed.size} messages echoed to their senders are in the history`,
      )
    },
  )

  await t.test('SIGTERM: 1012, reconnection to the other instance, nothing lost', async (t) => {
    // The killed instance comes back where the edge expects it; then the other one stops.
    await deployment.startChat(Number(new URL(first.url).port))
    // Since the kill, everyone is on the second instance.
    const leaving = [...clients]
    const said = await Promise.all(
      leaving.map(([name, client]) => client.say('friends', `${name} before stopping`)),
    )
    const stopped = second.stop('SIGTERM')
    for (const [name, client] of leaving) {
      t.equal((await client.closed).code, 1012, `${name} was told to reconnect elsewhere`)
      const again = await people.connect(name)
      clients.set(name, again)
      await again.join('friends')
    }
    t.match(await stopped, { code: 0 }, 'the instance exited cleanly')
    const henry = await people.user('henry')
    const joined = await henry.join('friends')
    t.same(
      names(joined.status?.users),
      ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'henry'],
      'everyone is back, once',
    )
    const history = new Set(joined.status?.messages.map((m) => m.id))
    t.same(
      said.filter((message) => !history.has(message.id)).map((m) => m.body),
      [],
      'what was said before the stop is in the history',
    )
    const alice = clients.get('alice') as ChatClient
    const hello = await henry.say('friends', 'hello all')
    t.match(
      await alice.next(
        (f) => f.type === 'room:notification' && f.code === 'message' && f.id === hello.id,
      ),
      {
        body: 'hello all',
      },
    )
  })
})
