import { PASSWORD, startStack } from '@finchat/testing'
import t from 'tap'

// The web UI's session: a login that answers with an HttpOnly cookie instead of a token, the
// cookie accepted where a token is, and a logout that revokes it.

t.test('the web session cookie', async (t) => {
  const stack = await startStack(t, { chatInstances: 0 })
  const { app } = stack.auth
  await stack.register('alice')
  const origin = { host: 'chat.example', origin: 'http://chat.example' }

  const login = await app.inject({
    method: 'POST',
    url: '/session',
    headers: { ...origin, 'content-type': 'application/x-www-form-urlencoded' },
    payload: `username=alice&password=${PASSWORD}`,
  })
  t.equal(login.statusCode, 200)
  t.match(login.json(), { username: 'alice', is_admin: false })
  t.notOk('token' in login.json(), 'no token for scripts to read')
  const setCookie = String(login.headers['set-cookie'])
  t.match(setCookie, /^finchat_session=[^;]{20,};/)
  t.match(setCookie, /HttpOnly/)
  t.match(setCookie, /SameSite=Lax/)
  t.match(setCookie, /Path=\//)
  t.match(setCookie, /Max-Age=\d+/)
  const cookie = setCookie.split(';')[0] as string

  const me = await app.inject({ method: 'GET', url: '/session', headers: { cookie } })
  t.match(me.json(), { username: 'alice' }, 'the cookie authenticates')
  t.match((await app.inject({ method: 'GET', url: '/profile', headers: { cookie } })).json(), {
    username: 'alice',
  })

  const fromElsewhere = await app.inject({
    method: 'DELETE',
    url: '/session',
    headers: { cookie, host: 'chat.example', origin: 'https://evil.example' },
  })
  t.equal(fromElsewhere.statusCode, 401, 'another site cannot log the user out with the cookie')
  const noOrigin = await app.inject({ method: 'DELETE', url: '/session', headers: { cookie } })
  t.equal(noOrigin.statusCode, 401, 'nor a request that does not say where it comes from')

  const logout = await app.inject({
    method: 'DELETE',
    url: '/session',
    headers: { cookie, ...origin },
  })
  t.equal(logout.statusCode, 204)
  t.match(String(logout.headers['set-cookie']), /^finchat_session=;.*Expires=Thu, 01 Jan 1970/)
  const after = await app.inject({ method: 'GET', url: '/session', headers: { cookie } })
  t.same(after.json(), { detail: 'Invalid token.' }, 'the session is revoked')

  const wrong = await app.inject({
    method: 'POST',
    url: '/session',
    payload: { username: 'alice', password: 'not-the-password' },
  })
  t.same(wrong.json(), { non_field_errors: ['Username/Password mismatch'] })
  t.notOk(wrong.headers['set-cookie'])
})
