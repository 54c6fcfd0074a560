import { STREAMS } from '@finchat/protocol'
import { createTokenVerifier } from '@finchat/sessions'
import { PASSWORD, startStack } from '@finchat/testing'
import t from 'tap'

t.test('sessions', async (t) => {
  const stack = await startStack(t, { chatInstances: 0, loginLimits: { maxFailuresPerUser: 2 } })
  const { accounts, sessions } = stack
  await accounts.register({ username: 'alice', password: PASSWORD })
  const ip = '192.0.2.1'
  const verify = createTokenVerifier({
    publicKey: stack.keys.publicKey,
    revocations: stack.newRevocations(),
  })

  t.test('open gives a token the service accepts, or says why not', async (t) => {
    const opened = await sessions.open({ username: 'Alice', password: PASSWORD, ip })
    if (!opened.ok) throw t.fail(`not opened: ${opened.reason}`)
    t.match(opened.user, { username: 'alice' })
    t.match((await stack.profile(opened.token)).json(), { username: 'alice', is_admin: false })

    t.same(await sessions.open({ username: 'alice', password: 'not-the-password', ip }), {
      ok: false,
      reason: 'mismatch',
    })
    t.same(await sessions.open({ username: 'nobody', password: PASSWORD, ip }), {
      ok: false,
      reason: 'mismatch',
    })
    await sessions.open({ username: 'alice', password: 'not-the-password', ip })
    t.match(await sessions.open({ username: 'alice', password: PASSWORD, ip }), {
      ok: false,
      reason: 'limited',
      retryAfterSeconds: Number,
    })
  })

  t.test('close refuses the token at once and announces it', async (t) => {
    await accounts.register({ username: 'bob', password: PASSWORD })
    const opened = await sessions.open({ username: 'bob', password: PASSWORD, ip })
    if (!opened.ok) throw t.fail(`not opened: ${opened.reason}`)
    const session = await verify(opened.token)
    if (!session) throw t.fail('the token does not verify')
    t.equal(await sessions.isActive(session), true)

    await sessions.close(session)
    t.equal(await sessions.isActive(session), false)
    t.same((await stack.profile(opened.token)).json(), { detail: 'Invalid token.' })
    const events = await stack.newBus().range(STREAMS.authEvents, '0', 10)
    t.match(
      events.map((e) => e.data),
      [{ type: 'session.revoked', session_id: session.sessionId, username: 'bob', at: Number }],
    )
  })
})
