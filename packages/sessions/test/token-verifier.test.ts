import { createSigner } from 'fast-jwt'
import t from 'tap'
import {
  createMemoryRevocationList,
  createTokenVerifier,
  generateSigningKeys,
  tokenFromAuthorization,
} from '../src/index.js'

t.test('tokens verify locally, and a revoked session stops verifying', async (t) => {
  const keys = generateSigningKeys()
  const revocations = createMemoryRevocationList()
  const verify = createTokenVerifier({ publicKey: keys.publicKey, revocations })
  const sign = createSigner({ key: keys.privateKey, algorithm: 'EdDSA', expiresIn: 60_000 })
  const token = sign({ sub: '7', name: 'alice', adm: false, sid: 's1' })

  t.match(await verify(token), { userId: 7, username: 'alice', isAdmin: false, sessionId: 's1' })
  t.equal(await verify(`${token}x`), null, 'tampered')
  t.equal(await verify('not a token'), null)
  const other = createSigner({ key: generateSigningKeys().privateKey, algorithm: 'EdDSA' })
  t.equal(await verify(other({ sub: '7', name: 'alice', adm: true, sid: 's2' })), null, 'forged')
  t.equal(await verify(sign({ sub: 'x', name: 'alice', sid: 's3' })), null, 'bad claims')

  await revocations.revoke('s1', Math.floor(Date.now() / 1000) + 60)
  t.equal(await verify(token), null, 'revoked')
})

t.test('the Authorization header is read as the original read it', async (t) => {
  t.same(tokenFromAuthorization(undefined), { kind: 'none' })
  t.same(tokenFromAuthorization('Basic abc'), { kind: 'none' })
  t.same(tokenFromAuthorization('Token abc'), { kind: 'token', token: 'abc' })
  t.same(tokenFromAuthorization('bearer abc'), { kind: 'token', token: 'abc' })
  t.equal(tokenFromAuthorization('Token').kind, 'malformed')
  t.equal(tokenFromAuthorization('Token a b').kind, 'malformed')
})

t.test('revocations expire with the token they block', async (t) => {
  let now = 1000
  const list = createMemoryRevocationList(() => now)
  await list.revoke('s', 1010)
  t.equal(await list.isRevoked('s'), true)
  now = 1011
  t.equal(await list.isRevoked('s'), false)
})
