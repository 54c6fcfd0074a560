import { STREAMS } from '@finchat/protocol'
import { createTokenVerifier } from '@finchat/sessions'
import t from 'tap'
import { profile, startAuth, strongPassword } from '../helpers/auth-server.js'

t.test('sessions', async (t) => {
  const server = await startAuth(t, { maxFailuresPerUser: 2 })
  const { app, accounts, sessions } = server
  await accounts.register({ username: 'alice', password: strongPassword })
  const ip = '192.0.2.1'
  const verify = createTokenVerifier({
    publicKey: server.keys.publicKey,
    revocations: server.revocations,
  })

  t.test('open gives a token the service accepts, or says why not', async (t) => {
    const opened = await sessions.open({ username: 'Alice', password: strongPassword, ip })
    if (!opened.ok) throw t.fail(`not opened: ${opened.reason}`)
    t.match(opened.user, { username: 'alice' })
    t.match((await profile(app, opened.token)).json(), { username: 'alice', is_admin: false })

    t.same(await sessions.open({ username: 'alice', password: 'not-the-password', ip }), {
      ok: false,
      reason: 'mismatch',
    })
    t.same(await sessions.open({ username: 'nobody', password: strongPassword, ip }), {
      ok: false,
      reason: 'mismatch',
    })
    await sessions.open({ username: 'alice', password: 'not-the-password', ip })
    t.match(await sessions.open({ username: 'alice', password: strongPassword, ip }), {
      ok: false,
      reason: 'limited',
      retryAfterSeconds: Number,
    })
  })

  t.test('close refuses the token at once and announces it', async (t) => {
    await accounts.register({ username: 'bob', password: strongPassword })
    const opened = await sessions.open({ username: 'bob', password: strongPassword, ip })
    if (!opened.ok) throw t.fail(`not opened: ${opened.reason}`)
    const session = await verify(opened.token)
    if (!session) throw t.fail('the token does not verify')
    t.equal(await sessions.isActive(session), true)

    await sessions.close(session)
    t.equal(await sessions.isActive(session), false)
    t.same((await profile(app, opened.token)).json(), { detail: 'Invalid token.' })
    const events = await server.bus.range(STREAMS.authEvents, '0', 10)
    t.match(
      events.map((e) => e.data),
      [{ type: 'session.revoked', session_id: session.sessionId, username: 'bob', at: Number }],
    )
  })
})
