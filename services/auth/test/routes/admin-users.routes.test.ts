import { startStack } from '@finchat/testing'
import t from 'tap'

t.test('user administration is for administrators only', async (t) => {
  const stack = await startStack(t, { chatInstances: 0 })
  const { app } = stack.auth
  const userToken = await stack.token('alice')
  // Registered, promoted, then logged in: admin rights are carried by the token.
  const adminToken = await stack.adminToken('root')

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
