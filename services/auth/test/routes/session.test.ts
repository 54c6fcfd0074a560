import { STREAMS } from '@finchat/protocol'
import { createTokenVerifier, generateSigningKeys } from '@finchat/sessions'
import { PASSWORD, startStack } from '@finchat/testing'
import { createSigner } from 'fast-jwt'
import t from 'tap'

t.test('profile and logout', async (t) => {
  const stack = await startStack(t, { chatInstances: 0 })
  const { app } = stack.auth
  const profile = (authorization?: string) =>
    app.inject({
      method: 'GET',
      url: '/profile',
      headers: authorization ? { authorization } : {},
    })
  const logout = (authorization?: string) =>
    app.inject({
      method: 'POST',
      url: '/logout',
      headers: authorization ? { authorization } : {},
    })

  await stack.accounts.register({
    username: 'alice',
    email: 'alice@example.com',
    password: PASSWORD,
  })
  const token = await stack.login('alice')

  t.test('the profile answers for Token and Bearer', async (t) => {
    for (const scheme of ['Token', 'Bearer', 'token']) {
      const response = await profile(`${scheme} ${token}`)
      t.equal(response.statusCode, 200, scheme)
      t.match(response.json(), { username: 'alice', email: 'alice@example.com', is_admin: false })
    }
  })

  t.test('no credentials, bad header shapes and bad tokens get 401 with the reason', async (t) => {
    t.same((await profile()).json(), { detail: 'Authentication credentials were not provided.' })
    t.same((await profile(`Basic ${token}`)).json(), {
      detail: 'Authentication credentials were not provided.',
    })
    t.equal((await profile('Token')).statusCode, 401)
    t.equal((await profile(`Token ${token} extra`)).statusCode, 401)
    const garbage = await profile('Token abcdefghijklmnopqrstuvwxyz')
    t.equal(garbage.statusCode, 401)
    t.same(garbage.json(), { detail: 'Invalid token.' })
  })

  t.test('a forged token (another key) and an expired one are refused', async (t) => {
    const claims = { sub: '1', name: 'alice', adm: true, sid: 'forged' }
    const forged = createSigner({ key: generateSigningKeys().privateKey, algorithm: 'EdDSA' })(
      claims,
    )
    t.same((await profile(`Token ${forged}`)).json(), { detail: 'Invalid token.' })
    const sign = createSigner({ key: stack.keys.privateKey, algorithm: 'EdDSA' })
    const expired = sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 10 })
    t.same((await profile(`Token ${expired}`)).json(), { detail: 'Invalid token.' })
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`
    t.equal((await profile(`Token ${unsigned}`)).statusCode, 401)
  })

  t.test('logout revokes that session only, everywhere, and announces it', async (t) => {
    const other = await stack.login('alice')
    let resolveRevoked: (event: unknown) => void = () => {}
    const revoked = new Promise<unknown>((resolve) => {
      resolveRevoked = resolve
    })
    const subscription = stack.newBus().subscribe(STREAMS.authEvents, (entries) => {
      resolveRevoked(entries[0]?.data)
    })
    t.teardown(() => subscription.close())
    await subscription.ready

    const response = await logout(`Token ${token}`)
    t.equal(response.statusCode, 204)
    t.equal(response.body, '')

    t.same((await profile(`Token ${token}`)).json(), { detail: 'Invalid token.' })
    t.equal((await profile(`Token ${other}`)).statusCode, 200, 'the other session lives on')
    const elsewhere = createTokenVerifier({
      publicKey: stack.keys.publicKey,
      revocations: stack.newRevocations(),
    })
    t.equal(await elsewhere(token), null, 'another process refuses it at once')
    t.ok(await elsewhere(other))
    t.match(await revoked, { type: 'session.revoked', username: 'alice', session_id: String })

    t.same((await logout(`Token ${token}`)).json(), { detail: 'Invalid token.' })
    t.same((await logout()).json(), { detail: 'Authentication credentials were not provided.' })
  })

  t.test('logging out everywhere ends every session of the user, and only hers', async (t) => {
    await stack.accounts.register({ username: 'bob', password: PASSWORD })
    const [phone, laptop, bobs] = [
      await stack.login('alice'),
      await stack.login('alice'),
      await stack.login('bob'),
    ]
    const elsewhere = createTokenVerifier({
      publicKey: stack.keys.publicKey,
      revocations: stack.newRevocations(),
    })
    const everywhere = await app.inject({
      method: 'POST',
      url: '/logout/everywhere',
      headers: { authorization: `Token ${laptop}` },
    })
    t.equal(everywhere.statusCode, 204)
    for (const token of [phone, laptop]) {
      t.equal((await profile(`Token ${token}`)).statusCode, 401, 'refused by auth')
      t.equal(await elsewhere(token), null, 'and by every other process, at once')
    }
    t.equal((await profile(`Token ${bobs}`)).statusCode, 200, "bob's session lives on")
    t.ok(await elsewhere(bobs))
  })
})
