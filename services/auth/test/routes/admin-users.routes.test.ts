import t from 'tap'
import { login, registerAndLogin, startAuth } from '../helpers/auth-server.js'

t.test('user administration is for administrators only', async (t) => {
  const server = await startAuth(t)
  const { app } = server
  const userToken = await registerAndLogin(app, 'alice')
  await registerAndLogin(app, 'root')
  await server.accounts.setAdmin('root', true)
  // Admin rights are carried by the token, so the admin logs in again after the promotion.
  const adminToken = await login(app, 'root')

  t.equal((await app.inject({ method: 'GET', url: '/admin/users' })).statusCode, 401)
  const forbidden = await app.inject({
    method: 'GET',
    url: '/admin/users',
    headers: { authorization: `Token ${userToken}` },
  })
  t.equal(forbidden.statusCode, 403)

  const list = await app.inject({
    method: 'GET',
    url: '/admin/users',
    headers: { authorization: `Token ${adminToken}` },
  })
  t.equal(list.statusCode, 200)
  t.same(
    list.json().users.map((u: { username: string; is_admin: boolean }) => [u.username, u.is_admin]),
    [
      ['alice', false],
      ['root', true],
    ],
  )

  const grant = await app.inject({
    method: 'POST',
    url: '/admin/users/ALICE/admin',
    headers: { authorization: `Token ${adminToken}` },
  })
  t.equal(grant.statusCode, 200)
  t.match(grant.json(), { username: 'alice', is_admin: true })
  const missing = await app.inject({
    method: 'POST',
    url: '/admin/users/nobody/admin',
    headers: { authorization: `Token ${adminToken}` },
  })
  t.equal(missing.statusCode, 404)
})
