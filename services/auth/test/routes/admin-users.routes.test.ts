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

t.test('admin rights are taken back, but never from the last administrator', async (t) => {
  const stack = await startStack(t, { chatInstances: 0 })
  const { app } = stack.auth
  const rootToken = await stack.adminToken('root')
  const bobToken = await stack.token('bob')
  await stack.register('alice')
  const as = (token: string | undefined, method: 'GET' | 'POST' | 'DELETE', url: string) =>
    app.inject({ method, url, headers: token ? { authorization: `Token ${token}` } : {} })
  const admins = async (token: string) =>
    (await as(token, 'GET', '/admin/users'))
      .json()
      .users.filter((u: { is_admin: boolean }) => u.is_admin)
      .map((u: { username: string }) => u.username)

  t.equal((await as(undefined, 'DELETE', '/admin/users/root/admin')).statusCode, 401)
  t.equal(
    (await as(bobToken, 'DELETE', '/admin/users/root/admin')).statusCode,
    403,
    'a user cannot demote an administrator',
  )

  t.equal((await as(rootToken, 'POST', '/admin/users/alice/admin')).statusCode, 200)
  t.equal((await as(await stack.login('alice'), 'GET', '/admin/users')).statusCode, 200)
  const revoked = await as(rootToken, 'DELETE', '/admin/users/Alice/admin')
  t.equal(revoked.statusCode, 200)
  t.match(revoked.json(), { username: 'alice', is_admin: false })
  t.equal(
    (await as(await stack.login('alice'), 'GET', '/admin/users')).statusCode,
    403,
    'her next login is an ordinary one',
  )
  t.match((await as(rootToken, 'DELETE', '/admin/users/bob/admin')).json(), {
    username: 'bob',
    is_admin: false,
  })
  const missing = await as(rootToken, 'DELETE', '/admin/users/nobody/admin')
  t.equal(missing.statusCode, 404)
  t.same(missing.json(), { detail: 'No such user.' })

  const last = await as(rootToken, 'DELETE', '/admin/users/root/admin')
  t.equal(last.statusCode, 409, 'the last administrator stays one')
  t.same(last.json(), {
    detail: 'root is the last administrator: make another user an administrator first.',
  })
  t.same(await admins(rootToken), ['root'])

  // With another administrator there, one may step down.
  t.equal((await as(rootToken, 'POST', '/admin/users/alice/admin')).statusCode, 200)
  const aliceToken = await stack.login('alice')
  t.equal((await as(rootToken, 'DELETE', '/admin/users/root/admin')).statusCode, 200)
  t.same(await admins(aliceToken), ['alice'])
  t.equal((await as(aliceToken, 'DELETE', '/admin/users/alice/admin')).statusCode, 409)
  t.same(await admins(aliceToken), ['alice'], 'and now she is the one who stays')
})

t.test(
  'an administrator marks a bot account, which ends its sessions; its next token says bot',
  async (t) => {
    const stack = await startStack(t, { chatInstances: 0 })
    const { app } = stack.auth
    const rootToken = await stack.adminToken('root')
    const botToken = await stack.token('finbot')
    const as = (token: string | undefined, method: 'GET' | 'PUT' | 'DELETE', url: string) =>
      app.inject({ method, url, headers: token ? { authorization: `Token ${token}` } : {} })
    const bots = async () =>
      (await as(rootToken, 'GET', '/admin/users'))
        .json()
        .users.map((u: { username: string; is_bot: boolean }) => [u.username, u.is_bot])
    const claims = (token: string) =>
      JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString())

    t.same(await bots(), [
      ['finbot', false],
      ['root', false],
    ])
    t.notOk('bot' in claims(botToken), "an ordinary account's token has no bot claim")
    t.equal((await as(undefined, 'PUT', '/admin/users/finbot/bot')).statusCode, 401)
    t.equal((await as(botToken, 'PUT', '/admin/users/finbot/bot')).statusCode, 403, 'not by itself')
    t.equal((await as(rootToken, 'PUT', '/admin/users/nobody/bot')).statusCode, 404)
    t.same((await as(rootToken, 'DELETE', '/admin/users/nobody/bot')).json(), {
      detail: 'No such user.',
    })

    const marked = await as(rootToken, 'PUT', '/admin/users/FinBot/bot')
    t.equal(marked.statusCode, 204)
    t.equal(marked.body, '')
    t.same(await bots(), [
      ['finbot', true],
      ['root', false],
    ])
    t.equal((await stack.profile(botToken)).statusCode, 401, 'the token from before is over')
    const nextToken = await stack.login('finbot')
    t.equal(claims(nextToken).bot, true, 'the next login is a bot')
    t.match((await stack.profile(nextToken)).json(), { username: 'finbot', is_bot: true })
    t.equal((await as(rootToken, 'PUT', '/admin/users/finbot/bot')).statusCode, 204, 'again: 204')
    t.equal((await stack.profile(nextToken)).statusCode, 200, 'marked again, nothing changed')

    t.equal((await as(rootToken, 'DELETE', '/admin/users/finbot/bot')).statusCode, 204)
    t.same(await bots(), [
      ['finbot', false],
      ['root', false],
    ])
    t.equal((await stack.profile(nextToken)).statusCode, 401, 'unmarked: its bot token is over')
    t.notOk('bot' in claims(await stack.login('finbot')))
  },
)
