import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { Agent } from 'undici'
import { ApiError, createApiClient } from '../src/client/index.js'

interface Seen {
  method: string | undefined
  url: string | undefined
  headers: IncomingMessage['headers']
  body: string
}

/** A stand-in for the auth service answering like PROTOCOL.md says it does. */
async function fakeAuth(t: Test) {
  const seen: Seen[] = []
  const server = createServer(async (req, res) => {
    let body = ''
    for await (const chunk of req) body += chunk
    seen.push({ method: req.method, url: req.url, headers: req.headers, body })
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
      res.end(JSON.stringify(value))
    }
    const token = req.headers.authorization === 'Token good-token-0123456789'
    const route = `${req.method} ${req.url}`
    if (route === 'POST /register') {
      const { username, email = '' } = JSON.parse(body)
      if (username === 'taken')
        return json(400, { username: ['A user with that username already exists.'] })
      return json(201, { id: 7, username, email })
    }
    if (route === 'POST /login') {
      const { password } = JSON.parse(body)
      if (password !== 'right-password') {
        return json(400, { non_field_errors: ['Username/Password mismatch'] })
      }
      return json(200, { token: 'good-token-0123456789' })
    }
    if (!token) return json(401, { detail: 'Invalid token.' })
    if (route === 'POST /logout') {
      res.writeHead(204)
      return res.end()
    }
    if (route === 'GET /profile')
      return json(200, { id: 7, username: 'alice', email: '', is_admin: false })
    res.writeHead(500, { 'content-type': 'text/plain' })
    res.end('boom')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  const { port } = server.address() as AddressInfo
  return { baseUrl: `http://127.0.0.1:${port}/`, seen }
}

t.test('register, login, profile, logout', async (t) => {
  const { baseUrl, seen } = await fakeAuth(t)
  const api = createApiClient(baseUrl)

  t.strictSame(await api.register({ username: 'alice', email: 'a@x.io', password: 'pw' }), {
    id: 7,
    username: 'alice',
    email: 'a@x.io',
  })
  t.match(seen[0], {
    method: 'POST',
    url: '/register',
    headers: { 'content-type': 'application/json' },
  })
  t.strictSame(JSON.parse(seen[0]?.body ?? ''), {
    username: 'alice',
    email: 'a@x.io',
    password: 'pw',
  })

  const token = await api.login({ username: 'alice', password: 'right-password' })
  t.equal(token, 'good-token-0123456789')
  t.strictSame(await api.profile(token), { id: 7, username: 'alice', email: '', is_admin: false })
  t.equal(seen[2]?.headers.authorization, `Token ${token}`)
  t.equal(await api.logout(token), undefined)
  t.match(seen[3], { method: 'POST', url: '/logout', body: '' })
})

t.test('non-2xx answers throw an ApiError with the status and the parsed body', async (t) => {
  const { baseUrl } = await fakeAuth(t)
  const api = createApiClient(baseUrl)
  const taken = await api.register({ username: 'taken', password: 'pw' }).catch((e: unknown) => e)
  t.ok(taken instanceof ApiError)
  t.match(taken, {
    name: 'ApiError',
    status: 400,
    body: { username: ['A user with that username already exists.'] },
  })
  await t.rejects(api.login({ username: 'alice', password: 'nope' }), {
    name: 'ApiError',
    status: 400,
    body: { non_field_errors: ['Username/Password mismatch'] },
  })
  await t.rejects(api.profile('bad'), {
    name: 'ApiError',
    status: 401,
    body: { detail: 'Invalid token.' },
  })
  await t.rejects(api.logout('bad'), { status: 401, message: /POST \/logout answered 401/ })
})

t.test('a non-JSON error body is kept as text; a custom dispatcher is used', async (t) => {
  const { baseUrl } = await fakeAuth(t)
  const agent = new Agent({ connections: 1 })
  t.teardown(() => agent.close())
  const api = createApiClient(baseUrl.replace(/\/$/, ''), { dispatcher: agent })
  const token = 'good-token-0123456789'
  await t.resolves(api.profile(token))
  // Unrouted on purpose: the fake answers 500 text/plain to anything it does not know.
  const failing = createApiClient(`${baseUrl}nested/`, { dispatcher: agent })
  await t.rejects(failing.profile(token), { name: 'ApiError', status: 500, body: 'boom' })
})
