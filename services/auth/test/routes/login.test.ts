import { PASSWORD, startStack } from '@finchat/testing'
import t from 'tap'

t.test('logging in', async (t) => {
  const stack = await startStack(t, {
    chatInstances: 0,
    loginLimits: { maxFailuresPerUser: 3, maxFailuresPerIp: 8 },
  })
  const { app } = stack.auth
  await app.inject({
    method: 'POST',
    url: '/register',
    payload: { username: 'alice', email: 'alice@example.com', password: PASSWORD },
  })
  const attempt = (payload: unknown) =>
    app.inject({ method: 'POST', url: '/login', payload: payload as object })

  t.test('right credentials give a token, a new one per login', async (t) => {
    const first = await attempt({ username: 'alice', password: PASSWORD })
    t.equal(first.statusCode, 200)
    const { token } = first.json()
    t.type(token, 'string')
    t.ok(token.length >= 20)
    const second = await stack.login('alice')
    t.not(second, token)
  })

  t.test('the username is matched in any letter case', async (t) => {
    t.equal((await attempt({ username: 'ALICE', password: PASSWORD })).statusCode, 200)
  })

  t.test('a form body works', async (t) => {
    const response = await app.inject({
      method: 'POST',
      url: '/login',
      payload: `username=alice&password=${encodeURIComponent(PASSWORD)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    t.equal(response.statusCode, 200)
  })

  t.test('successful logins never use up the failure budget', async (t) => {
    for (let i = 0; i < 15; i++) await stack.login('alice')
    t.pass('15 logins in a row')
  })

  t.test('wrong password and unknown user get the same answer', async (t) => {
    const wrong = await attempt({ username: 'alice', password: 'not-the-password' })
    t.equal(wrong.statusCode, 400)
    t.same(wrong.json(), { non_field_errors: ['Username/Password mismatch'] })
    const unknown = await attempt({ username: 'nobody', password: PASSWORD })
    t.same(unknown.json(), { non_field_errors: ['Username/Password mismatch'] })
  })

  t.test('missing fields are named', async (t) => {
    const response = await attempt({})
    t.equal(response.statusCode, 400)
    t.same(response.json(), {
      username: ['This field is required.'],
      password: ['This field is required.'],
    })
  })

  t.test('a guessing loop is stopped with 429, even for the right password', async (t) => {
    const codes: number[] = []
    for (let i = 0; i < 4; i++) {
      codes.push((await attempt({ username: 'alice', password: `guess-${i}-xyz` })).statusCode)
    }
    t.same(codes, [400, 400, 429, 429], 'alice had one failure before; three is her budget')
    const blocked = await attempt({ username: 'alice', password: PASSWORD })
    t.equal(blocked.statusCode, 429)
    t.match(blocked.headers['retry-after'], /^\d+$/)
    t.match(blocked.json(), { detail: /Too many failed login attempts/ })
  })

  t.test('one address guessing many names is stopped too', async (t) => {
    const codes: number[] = []
    for (let i = 0; i < 8; i++) {
      codes.push((await attempt({ username: `user${i}`, password: 'whatever-it-is' })).statusCode)
    }
    t.ok(codes.includes(429), `${codes}`)
  })
})

t.test('parallel guesses share one budget: at most a budget of them reach the hash', async (t) => {
  const guesses = (
    stack: Awaited<ReturnType<typeof startStack>>,
    username: (i: number) => string,
  ) =>
    Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        stack.auth.app.inject({
          method: 'POST',
          url: '/login',
          payload: { username: username(i), password: `wrong-guess-${i}` },
        }),
      ),
    ).then((answers) => answers.map((answer) => answer.statusCode))
  const count = (codes: number[], code: number) => codes.filter((c) => c === code).length

  t.test('200 at once for one account', async (t) => {
    const stack = await startStack(t, {
      chatInstances: 0,
      loginLimits: { maxFailuresPerUser: 10, maxFailuresPerIp: 1000 },
    })
    await stack.register('bob')
    const codes = await guesses(stack, () => 'bob')
    t.equal(count(codes, 400), 10, 'exactly the budget was checked against the hash')
    t.equal(count(codes, 429), 190, 'the rest were refused before it')
    t.equal(
      (
        await stack.auth.app.inject({
          method: 'POST',
          url: '/login',
          payload: { username: 'bob', password: PASSWORD },
        })
      ).statusCode,
      429,
      'and the account stays locked for the window',
    )
  })

  t.test('200 at once from one address, each for another name', async (t) => {
    const stack = await startStack(t, {
      chatInstances: 0,
      loginLimits: { maxFailuresPerUser: 1000, maxFailuresPerIp: 25 },
    })
    const codes = await guesses(stack, (i) => `someone-${i}`)
    t.equal(count(codes, 400), 25, 'exactly the address budget reached the hash')
    t.equal(count(codes, 429), 175)
  })
})

t.test("a stranger's guesses cannot lock the bot (or an admin) out", async (t) => {
  const stack = await startStack(t, {
    chatInstances: 0,
    loginLimits: { maxFailuresPerUser: 10, maxFailuresPerIp: 1000, knownAddressSeconds: 3600 },
  })
  await stack.register('finbot')
  const login = (password: string, remoteAddress: string) =>
    stack.auth.app
      .inject({
        method: 'POST',
        url: '/login',
        payload: { username: 'finbot', password },
        remoteAddress,
      })
      .then((answer) => answer.statusCode)
  const botHost = '10.0.1.1'
  t.equal(await login(PASSWORD, botHost), 200, 'the bot logs in from its host')

  const stranger: number[] = []
  for (let i = 0; i < 15; i++) stranger.push(await login(`guess-${i}-nope`, '10.0.9.9'))
  t.same(stranger.slice(9), [400, 429, 429, 429, 429, 429], 'the stranger gets 10 tries')
  t.equal(await login(PASSWORD, '10.0.9.8'), 429, 'from a new address the account is locked')
  t.equal(await login(PASSWORD, botHost), 200, 'from where it logged in before, the bot is not')
  const fromHome: number[] = []
  for (let i = 0; i < 11; i++) fromHome.push(await login(`guess-${i}-home`, botHost))
  t.same(fromHome.slice(9), [400, 429], 'guessing from that address has its own budget of 10')
})
