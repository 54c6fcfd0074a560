import cookie from '@fastify/cookie'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import {
  createMemoryRevocationList,
  createTokenVerifier,
  DEFAULT_SESSION_COOKIE,
  generateSigningKeys,
  readCredentials,
  SessionClaimsSchema,
  tokenIssuerPlugin,
} from '../src/index.js'

const grant = { userId: 42, username: 'alice', isAdmin: true, isBot: true, sessionId: 'session-1' }

async function issuer(t: Test, ttlSeconds = 600) {
  const keys = generateSigningKeys()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(tokenIssuerPlugin, { keys, ttlSeconds })
  await app.ready()
  return { app, keys }
}

t.test('a token the issuer signs is the session the verifier reads back', async (t) => {
  const { app, keys } = await issuer(t, 600)
  const verify = createTokenVerifier({
    publicKey: keys.publicKey,
    revocations: createMemoryRevocationList(),
  })
  const before = Math.floor(Date.now() / 1000)
  const token = app.issueSessionToken(grant)
  const session = await verify(token)
  t.match(session, grant, 'every claim the issuer writes, the verifier reads under the same name')
  const expiresAt = session?.expiresAt ?? 0
  t.ok(expiresAt >= before + 600 && expiresAt <= before + 602, 'expires one TTL from now')

  // The payload is exactly the schema's: a claim renamed on either side fails here.
  const payload = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString())
  const written = Object.keys(payload).filter((key) => key !== 'iat')
  t.same(written.sort(), Object.keys(SessionClaimsSchema.properties).sort())
})

t.test(
  'only bot accounts get the bot claim: the tokens of everyone else stay as they were',
  async (t) => {
    const { app, keys } = await issuer(t)
    const verify = createTokenVerifier({
      publicKey: keys.publicKey,
      revocations: createMemoryRevocationList(),
    })
    const token = app.issueSessionToken({ ...grant, isBot: false })
    const payload = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString())
    t.notOk('bot' in payload, 'no bot claim at all')
    t.equal((await verify(token))?.isBot, false)
    // Signed as before bot accounts existed: still valid, and no bot.
    const old = app.jwt.sign({ sub: '42', name: 'alice', adm: false, sid: 's' })
    t.match(await verify(old), { username: 'alice', isBot: false })
    t.equal(
      await verify(app.jwt.sign({ sub: '42', name: 'a', adm: false, bot: 'yes', sid: 's' })),
      null,
    )
  },
)

t.test('a payload that is not the one auth signs does not authenticate', async (t) => {
  const { app, keys } = await issuer(t)
  const verify = createTokenVerifier({
    publicKey: keys.publicKey,
    revocations: createMemoryRevocationList(),
  })
  // Signed with the right key, but not through claimsFor.
  const sign = (payload: object) => app.jwt.sign(payload)
  t.equal(await verify(sign({ sub: '42', name: 'alice', adm: true })), null, 'no session id')
  t.equal(await verify(sign({ sub: '42', user: 'alice', adm: true, sid: 's' })), null, 'renamed')
  t.equal(await verify(sign({ sub: 'x', name: 'alice', adm: true, sid: 's' })), null, 'bad id')
  t.equal(await verify(sign({ sub: '42', name: 'alice', adm: 'yes', sid: 's' })), null, 'bad flag')
})

t.test('REST and the websocket handshake read credentials by the same rules', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(cookie)
  const rest = { cookieName: DEFAULT_SESSION_COOKIE, cookieOnSafeMethodsFromAnywhere: true }
  const handshake = { cookieName: DEFAULT_SESSION_COOKIE, queryToken: true }
  app.all('/rest', async (request) => readCredentials(request, rest))
  app.get('/ws', async (request) => readCredentials(request, handshake))
  app.get('/ws-elsewhere', async (request) =>
    readCredentials(request, { ...handshake, allowedOrigins: ['https://chat.example'] }),
  )
  const call = async (method: 'GET' | 'POST', url: string, headers: Record<string, string>) =>
    (await app.inject({ method, url, headers })).json()
  const cookieHeader = { cookie: `${DEFAULT_SESSION_COOKIE}=from-cookie`, host: 'chat.local' }

  t.match(await call('GET', '/rest', { authorization: 'Token abc' }), {
    token: 'abc',
    from: 'header',
  })
  t.match(await call('GET', '/rest', { authorization: 'Token' }), { kind: 'malformed' })
  t.match(await call('GET', '/rest?token=abc', {}), { kind: 'none' }, 'REST never reads ?token=')
  t.match(await call('GET', '/rest', cookieHeader), { from: 'cookie' }, 'a read from anywhere')
  t.match(await call('POST', '/rest', cookieHeader), { kind: 'none' }, 'a change needs the Origin')
  t.match(await call('POST', '/rest', { ...cookieHeader, origin: 'http://chat.local' }), {
    from: 'cookie',
  })
  t.match(await call('GET', '/ws?token=abc', cookieHeader), { token: 'abc', from: 'query' })
  t.match(await call('GET', '/ws', cookieHeader), { kind: 'none' }, 'a handshake needs the Origin')
  t.match(await call('GET', '/ws', { ...cookieHeader, origin: 'http://evil.example' }), {
    kind: 'none',
  })
  t.match(
    await call('GET', '/ws', {
      ...cookieHeader,
      origin: 'http://edge.example',
      'x-forwarded-host': 'edge.example',
    }),
    { from: 'cookie' },
    'behind the edge, its host',
  )
  t.match(await call('GET', '/ws-elsewhere', { ...cookieHeader, origin: 'https://chat.example' }), {
    from: 'cookie',
  })
  t.match(
    await call('GET', '/ws-elsewhere', { ...cookieHeader, origin: 'http://chat.local' }),
    { kind: 'none' },
    'with allowed origins listed, only they',
  )
})
