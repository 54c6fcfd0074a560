import { PASSWORD, startStack } from '@finchat/testing'
import t from 'tap'
import { LastAdminError } from '../../src/accounts/accounts.service.js'

t.test('accounts', async (t) => {
  const stack = await startStack(t, { chatInstances: 0 })
  const { accounts } = stack
  const { app } = stack.auth
  const loginStatus = async (username: string, password: string) =>
    (await app.inject({ method: 'POST', url: '/login', payload: { username, password } }))
      .statusCode

  t.test('register checks the fields and answers with the user', async (t) => {
    const invalid = await accounts.register({ username: 'no spaces!', password: '1234' })
    t.same(invalid, {
      ok: false,
      errors: {
        username: [
          'Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.',
        ],
        password: [
          'This password is too short. It must contain at least 8 characters.',
          'This password is too common.',
          'This password is entirely numeric.',
        ],
      },
    })
    const registered = await accounts.register({ username: 'alice', password: PASSWORD })
    t.match(registered, { ok: true, user: { username: 'alice', email: '', is_admin: false } })
    t.equal(await loginStatus('alice', PASSWORD), 200, 'the new user can log in')
  })

  t.test('register refuses a taken name, also when the registrations race', async (t) => {
    t.same(await accounts.register({ username: 'ALICE', password: PASSWORD }), {
      ok: false,
      errors: { username: ['A user with that username already exists.'] },
    })
    const raced = await Promise.all(
      ['bob', 'Bob', 'BOB'].map((username) => accounts.register({ username, password: PASSWORD })),
    )
    t.equal(raced.filter((r) => r.ok).length, 1, 'one user created')
    for (const result of raced.filter((r) => !r.ok)) {
      t.same(result, {
        ok: false,
        errors: { username: ['A user with that username already exists.'] },
      })
    }
  })

  t.test('register can make an administrator, whose token says so', async (t) => {
    const registered = await accounts.register({
      username: 'root',
      email: 'root@example.com',
      password: PASSWORD,
      isAdmin: true,
    })
    t.match(registered, { ok: true, user: { is_admin: true } })
    t.match((await stack.profile(await stack.login('root'))).json(), { is_admin: true })
  })

  t.test('ensureUser creates the account, then gives it a changed password', async (t) => {
    // The operator's own account: no strength rules.
    const created = await accounts.ensureUser('finbot', 'first')
    t.match(created, { username: 'finbot', email: '', is_admin: false })
    t.equal(await loginStatus('finbot', 'first'), 200)

    t.equal((await accounts.ensureUser('finbot', 'first')).id, created.id, 'unchanged: same user')
    t.equal(await loginStatus('finbot', 'first'), 200)

    const reset = await accounts.ensureUser('finbot', 'second')
    t.equal(reset.id, created.id, 'the same account')
    t.equal(await loginStatus('finbot', 'second'), 200, 'the new password works')
    t.equal(await loginStatus('finbot', 'first'), 400, 'the old one does not')
  })

  t.test('setAdmin grants from the next login on; a demotion ends every session', async (t) => {
    await accounts.register({ username: 'carol', password: PASSWORD })
    const before = await stack.login('carol')

    t.match(await accounts.setAdmin('CAROL', true), { username: 'carol', is_admin: true })
    t.equal((await stack.profile(before)).statusCode, 200, 'a grant leaves open sessions alone')
    const asAdmin = await stack.login('carol')
    t.match((await stack.profile(asAdmin)).json(), { is_admin: true })

    t.match(await accounts.setAdmin('carol', false), { username: 'carol', is_admin: false })
    t.equal((await stack.profile(asAdmin)).statusCode, 401, 'the token saying admin is refused')
    t.equal((await stack.profile(before)).statusCode, 401, 'so is every other session of hers')
    t.match((await stack.profile(await stack.login('carol'))).json(), { is_admin: false })

    t.equal(await accounts.setAdmin('nobody', true), undefined, 'no such user')
  })

  t.test('list gives every user', async (t) => {
    // Which spelling of bob won the race varies, and so does its place under the collation.
    const listed = (await accounts.list()).map((u) => `${u.username.toLowerCase()}:${u.is_admin}`)
    t.same(listed.sort(), ['alice:false', 'bob:false', 'carol:false', 'finbot:false', 'root:true'])
  })

  t.test('two administrators demoting each other at once: one of them stays', async (t) => {
    await accounts.setAdmin('carol', true)
    const admins = async () =>
      (await accounts.list()).filter((u) => u.is_admin).map((u) => u.username)
    t.same(await admins(), ['carol', 'root'])

    const outcomes = await Promise.allSettled([
      accounts.setAdmin('root', false),
      accounts.setAdmin('carol', false),
    ])
    t.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1, 'one demotion done')
    const refused = outcomes.find((o) => o.status === 'rejected')?.reason
    t.type(refused, LastAdminError, 'the other refused')
    t.same(await admins(), [refused.username], 'the refused one is the administrator left')
    await t.rejects(accounts.setAdmin(refused.username, false), LastAdminError)
  })
})
