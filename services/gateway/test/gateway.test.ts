import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer } from '@finchat/kit'
import type { ServerFrame } from '@finchat/protocol'
import { ApiError, ChatClient, createApiClient } from '@finchat/protocol/client'
import { PASSWORD, startStack } from '@finchat/testing'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import t, { type Test } from 'tap'
import { buildGateway } from '../src/app.js'
import { createUpstreamPool, type UpstreamPool } from '../src/upstreams/upstream-pool.js'

// Port 8000 as clients see it: REST and websocket through the gateway, in front of auth and two
// chat instances, and what they get when an upstream is down.

const isMotd = (f: ServerFrame) => f.type === 'notification' && f.code === 'api-motd'

async function startGateway(
  t: Test,
  upstreams: { authUrl: string; chatUrls: string[] },
  webRoot = join(tmpdir(), 'finchat-no-web-ui'),
) {
  const app: FastifyInstance = await createServer({ logger: false })
  const chat: UpstreamPool = createUpstreamPool({
    urls: upstreams.chatUrls,
    resolveEveryMs: 60_000,
    checkEveryMs: 50,
    logger: pino({ level: 'silent' }),
  })
  await chat.start()
  await app.register(buildGateway({ authUrl: upstreams.authUrl, chat, timeoutMs: 2000, webRoot }))
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => {
    chat.stop()
    await app.close()
  })
  return { url, wsUrl: `${url.replace('http', 'ws')}/ws/chat`, chat, app }
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000) {
  const started = Date.now()
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const stack = await startStack(t, { chatInstances: 2 })
const gateway = await startGateway(t, {
  authUrl: stack.auth.url,
  chatUrls: stack.chats.map((chat) => chat.url),
})
await stack.createRooms('investments')
const api = createApiClient(gateway.url)

/** Registers and logs in `username` through the gateway, then connects to its websocket. */
async function connect(username: string, path = '/ws/chat') {
  await api.register({ username, password: PASSWORD })
  const token = await api.login({ username, password: PASSWORD })
  const client = await ChatClient.connect(`${gateway.url.replace('http', 'ws')}${path}`, { token })
  t.teardown(() => client.close())
  await client.next(isMotd)
  return client
}

t.test('the account API answers through the gateway, as the original did', async (t) => {
  const created = await api.register({
    username: 'alice',
    email: 'alice@example.com',
    password: PASSWORD,
  })
  t.match(created, { username: 'alice', email: 'alice@example.com' })
  const token = await api.login({ username: 'alice', password: PASSWORD })
  t.match(await api.profile(token), { username: 'alice' })
  const form = await fetch(`${gateway.url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `username=alice&password=${PASSWORD}`,
  })
  t.equal(form.status, 200, 'form bodies pass through')
  const mismatch = await api
    .login({ username: 'alice', password: 'wrong-password' })
    .catch((e) => e)
  t.type(mismatch, ApiError)
  t.same((mismatch as ApiError).body, { non_field_errors: ['Username/Password mismatch'] })
  await api.logout(token)
  const revoked = await api.profile(token).catch((e) => e)
  t.same((revoked as ApiError).body, { detail: 'Invalid token.' })
})

t.test('websocket connections spread over both chat instances, and rooms span them', async (t) => {
  const before = await Promise.all(stack.chats.map((chat) => connectionsOn(chat.url)))
  const bob = await connect('bob')
  const carol = await connect('carol', '/ws/chat/')
  const after = await Promise.all(stack.chats.map((chat) => connectionsOn(chat.url)))
  t.same(
    after.map((n, i) => n - (before[i] as number)),
    [1, 1],
    'one connection on each instance',
  )
  await bob.join('investments')
  await carol.join('investments')
  await bob.say('investments', 'hello from the other instance')
  t.match(await carol.next((f) => f.type === 'room:notification' && f.code === 'message'), {
    user: 'bob',
    body: 'hello from the other instance',
    you: false,
  })
})

t.test('the token may come in the query string', async (t) => {
  await api.register({ username: 'dave', password: PASSWORD })
  const token = await api.login({ username: 'dave', password: PASSWORD })
  const dave = await ChatClient.connect(gateway.wsUrl, { token, tokenIn: 'query' })
  t.teardown(() => dave.close())
  t.match(await dave.next(), { type: 'notification', code: 'api-motd' })
})

t.test('the web UI session cookie works from the gateway origin only', async (t) => {
  await api.register({ username: 'erin', password: PASSWORD })
  const token = await api.login({ username: 'erin', password: PASSWORD })
  const cookie = { cookie: `finchat_session=${token}` }
  const page = await ChatClient.connect(gateway.wsUrl, { headers: cookie, origin: gateway.url })
  t.teardown(() => page.close())
  page.send({ type: 'list' })
  t.match(await page.next(), { type: 'notification', code: 'list' }, 'no MOTD, and signed in')
  const elsewhere = await ChatClient.connect(gateway.wsUrl, {
    headers: cookie,
    origin: 'https://evil.example',
  })
  t.match(await elsewhere.next(), { type: 'fatal', code: 'not-authenticated' })
})

t.test('a plain HTTP request to /ws/chat is a JSON error, not a page', async (t) => {
  const response = await fetch(`${gateway.url}/ws/chat`)
  t.equal(response.status, 400)
  t.match(response.headers.get('content-type'), /json/)
})

t.test('admin routes reach their service', async (t) => {
  await api.register({ username: 'root', password: PASSWORD })
  await stack.makeAdmin('root')
  const token = await api.login({ username: 'root', password: PASSWORD })
  const headers = { authorization: `Token ${token}`, 'content-type': 'application/json' }
  const created = await fetch(`${gateway.url}/admin/rooms`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ name: 'family' }),
  })
  t.equal(created.status, 201)
  const users = await fetch(`${gateway.url}/admin/users`, { headers })
  t.equal(users.status, 200)
  const { users: listed } = (await users.json()) as { users: Array<{ username: string }> }
  t.ok(
    listed.some((user) => user.username === 'root'),
    'the user list comes from auth',
  )
})

t.test('the API is documented at /docs, from the services themselves', async (t) => {
  const document = (await (await fetch(`${gateway.url}/docs/json`)).json()) as {
    paths: Record<string, unknown>
  }
  for (const path of [
    '/register',
    '/login',
    '/logout',
    '/profile',
    '/admin/rooms',
    '/admin/users',
  ]) {
    t.ok(document.paths[path], `${path} is documented`)
  }
  const adminRights = document.paths['/admin/users/{username}/admin'] as Record<string, unknown>
  t.ok(adminRights?.post && adminRights.delete, 'admin rights granted and taken back')
  t.match(await (await fetch(`${gateway.url}/docs`)).text(), /swagger/i)
})

t.test('the web UI is served at /, or a page that says how to build it', async (t) => {
  t.match(await (await fetch(`${gateway.url}/`)).text(), /pnpm --filter @finchat\/web build/)
  const root = await mkdtemp(join(tmpdir(), 'finchat-web-'))
  await writeFile(join(root, 'index.html'), '<!doctype html><title>Financial Chat</title>')
  await writeFile(join(root, 'app.js'), 'console.log(1)')
  const withUi = await startGateway(
    t,
    { authUrl: stack.auth.url, chatUrls: [stack.chats[0]?.url as string] },
    root,
  )
  const index = await fetch(`${withUi.url}/`)
  t.match(index.headers.get('content-type'), /html/)
  t.match(await index.text(), /<title>Financial Chat<\/title>/)
  t.match((await fetch(`${withUi.url}/app.js`)).headers.get('content-type'), /javascript/)
})

t.test('upstreams down: clear JSON errors, and connections go where they can', async (t) => {
  const [first, second] = stack.chats
  await first?.stop()
  await until(() => gateway.chat.list().filter((u) => u.state === 'down').length === 1, 'one down')
  for (const name of ['frank', 'grace', 'heidi']) await connect(name)
  t.pass('every new connection landed on the instance still up')

  await second?.stop()
  await until(() => gateway.chat.pick() === undefined, 'none left')
  const refused = await ChatClient.connect(gateway.wsUrl, { token: 'whatever' }).catch((e) => e)
  t.match(String(refused), /503/, 'the websocket handshake is refused with 503')
  const rooms = await fetch(`${gateway.url}/admin/rooms`)
  t.equal(rooms.status, 503)
  t.same(await rooms.json(), { detail: 'No chat instance is available; try again shortly.' })

  await stack.auth.stop()
  const started = Date.now()
  const login = await fetch(`${gateway.url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'alice', password: PASSWORD }),
  })
  t.equal(login.status, 503)
  t.same(await login.json(), { detail: 'The auth service is unavailable; try again shortly.' })
  t.ok(Date.now() - started < 2000, 'at once, not after a hang')
})

async function connectionsOn(chatUrl: string): Promise<number> {
  const metrics = await (await fetch(`${chatUrl}/metrics`)).text()
  const line = metrics.split('\n').find((l) => l.startsWith('chat_connections'))
  return Number(line?.split(' ').at(-1) ?? 0)
}
