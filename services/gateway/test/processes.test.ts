import type { ServerFrame } from '@finchat/protocol'
import { ChatClient, createApiClient } from '@finchat/protocol/client'
import { PASSWORD, startDeployment, startFakeStooq } from '@finchat/testing'
import t from 'tap'

// The deployment as compose runs it, each service its own process: gateway in front of auth,
// two chat instances and the stock bot, on one PostgreSQL and one Redis.

const isMotd = (f: ServerFrame) => f.type === 'notification' && f.code === 'api-motd'
const messageFrom = (user: string) => (f: ServerFrame) =>
  f.type === 'room:notification' && f.code === 'message' && f.user === user

t.test('gateway, auth, two chat instances and the bot as processes', async (t) => {
  if (!process.env.DATABASE_URL || !process.env.REDIS_URL) {
    t.pass('skipped: needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)')
    return
  }
  const deployment = await startDeployment(t)
  const { chats, gateway, auth } = deployment
  await deployment.createRooms('investments')

  const api = createApiClient(gateway.url)
  const { wsUrl } = deployment
  const connect = async (username: string) => {
    await api.register({ username, password: PASSWORD }).catch(() => {})
    const client = await ChatClient.connect(wsUrl, {
      token: await api.login({ username, password: PASSWORD }),
    })
    t.teardown(() => client.close())
    await client.next(isMotd)
    return client
  }

  /** As a client does: try again shortly while the gateway has not yet seen the instance go. */
  const reconnect = async (username: string) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await connect(username)
      } catch (error) {
        if (attempt === 20) throw error
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt))
      }
    }
  }

  const stooq = await startFakeStooq(t)
  stooq.quote('aapl.us', '93.42')
  await api.register({ username: 'finbot', password: PASSWORD })
  await deployment.startBot({
    FINBOT_USERNAME: 'finbot',
    FINBOT_PASSWORD: PASSWORD,
    FINBOT_ROOMS: 'investments',
    FINBOT_QUOTE_URL: stooq.url,
  })

  const before = await Promise.all(chats.map((chat) => connectionsOn(chat.url)))
  const alice = await connect('alice')
  const bob = await connect('bob')
  const after = await Promise.all(chats.map((chat) => connectionsOn(chat.url)))
  t.same(
    after.map((n, i) => n - (before[i] as number)),
    [1, 1],
    'alice and bob landed on different instances',
  )
  const joined = await alice.join('investments')
  t.ok(
    joined.status?.users.some((u) => u.name === 'finbot'),
    'the bot is in the room',
  )
  await bob.join('investments')
  await alice.say('investments', 'across instances')
  t.match(await bob.next(messageFrom('alice')), { body: 'across instances' })
  bob.send({ type: 'message', room_name: 'investments', command: 'stock', payload: 'aapl.us' })
  t.match(await alice.next(messageFrom('finbot')), { body: 'AAPL.US quote is $93.42 per share' })

  // One chat instance stops: its clients are told to reconnect, and the gateway sends them on.
  const [first] = chats
  await first?.stop()
  const { code } = await Promise.race([alice.closed, bob.closed])
  t.equal(code, 1012, 'the client on the stopped instance is told the service restarts')
  const movers = [alice, bob].filter((client) => client.socket.readyState !== client.socket.OPEN)
  t.equal(movers.length, 1)
  const back = await reconnect(movers[0] === alice ? 'alice' : 'bob')
  const rejoined = await back.join('investments')
  t.ok(
    rejoined.status?.messages.some((m) => m.body === 'across instances'),
    'history is there',
  )
  for (const name of ['carol', 'dave', 'erin']) await reconnect(name)
  t.pass('new connections find the instance that is up')

  await auth.stop()
  const login = await fetch(`${gateway.url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'alice', password: PASSWORD }),
  })
  t.equal(login.status, 503, 'auth down: 503')
  t.same(await login.json(), { detail: 'The auth service is unavailable; try again shortly.' })
})

async function connectionsOn(url: string): Promise<number> {
  const metrics = await (await fetch(`${url}/metrics`)).text()
  const line = metrics.split('\n').find((l) => l.startsWith('chat_connections'))
  return Number(line?.split(' ').at(-1) ?? 0)
}
