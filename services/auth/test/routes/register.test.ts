import { PASSWORD, startStack } from '@finchat/testing'
import t from 'tap'

t.test('registering', async (t) => {
  const { app } = (await startStack(t, { chatInstances: 0 })).auth
  const register = (payload: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/register', payload: payload as object, headers })

  t.test('a JSON body creates the user and answers 201 without the password', async (t) => {
    const response = await register({
      username: 'alice',
      email: 'alice@example.com',
      password: PASSWORD,
    })
    t.equal(response.statusCode, 201)
    const body = response.json()
    t.match(body, { username: 'alice', email: 'alice@example.com', id: Number })
    t.notOk('password' in body || 'password_hash' in body)
  })

  t.test('a form body works too, as the original web client posts it', async (t) => {
    const response = await register(
      `username=bob&email=bob%40example.com&password=${encodeURIComponent(PASSWORD)}`,
      { 'content-type': 'application/x-www-form-urlencoded' },
    )
    t.equal(response.statusCode, 201)
    t.match(response.json(), { username: 'bob', email: 'bob@example.com' })
  })

  t.test('email may be omitted', async (t) => {
    const response = await register({ username: 'carol', password: PASSWORD })
    t.equal(response.statusCode, 201)
    t.equal(response.json().email, '')
  })

  t.test('a username or email taken in any letter case is refused', async (t) => {
    const sameName = await register({
      username: 'ALICE',
      email: 'other@example.com',
      password: PASSWORD,
    })
    t.equal(sameName.statusCode, 400)
    t.same(sameName.json(), { username: ['A user with that username already exists.'] })

    const sameEmail = await register({
      username: 'alice2',
      email: 'Alice@Example.COM',
      password: PASSWORD,
    })
    t.equal(sameEmail.statusCode, 400)
    t.same(sameEmail.json(), { email: ['A user with that email already exists.'] })
  })

  t.test('concurrent registrations of one name create one user', async (t) => {
    const responses = await Promise.all(
      ['dave', 'Dave', 'DAVE'].map((username) => register({ username, password: PASSWORD })),
    )
    t.same(responses.map((r) => r.statusCode).sort(), [201, 400, 400])
  })

  t.test('missing and mistyped fields each get their own key', async (t) => {
    const missing = await register({})
    t.equal(missing.statusCode, 400)
    t.same(missing.json(), {
      username: ['This field is required.'],
      password: ['This field is required.'],
    })
    const mistyped = await register({ username: 42, email: ['x'], password: { a: 1 } })
    t.equal(mistyped.statusCode, 400)
    t.same(Object.keys(mistyped.json()).sort(), ['email', 'password', 'username'])
  })

  t.test('invalid values are explained per field', async (t) => {
    const response = await register({ username: 'no spaces!', email: 'not-an-email', password: '' })
    t.equal(response.statusCode, 400)
    t.same(response.json(), {
      username: [
        'Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.',
      ],
      email: ['Enter a valid email address.'],
      password: ['This field may not be blank.'],
    })
    const long = await register({ username: 'u'.repeat(151), password: PASSWORD })
    t.same(long.json(), { username: ['Ensure this field has no more than 150 characters.'] })
  })

  t.test('weak passwords are refused with the reason', async (t) => {
    const cases: [string, string][] = [
      ['short1x', 'This password is too short. It must contain at least 8 characters.'],
      ['1234567890', 'This password is entirely numeric.'],
      ['password123', 'This password is too common.'],
      ['eve-the-user', 'The password is too similar to the username.'],
      ['x'.repeat(129), 'Ensure this field has no more than 128 characters.'],
    ]
    for (const [password, message] of cases) {
      const response = await register({ username: 'eve_the_user', password })
      t.equal(response.statusCode, 400, password)
      t.ok(response.json().password?.includes(message), `${password}: ${response.body}`)
    }
  })

  t.test('hostile bodies get clear errors', async (t) => {
    const huge = await register({ username: 'big', password: 'x'.repeat(100_000) })
    t.equal(huge.statusCode, 413)
    const broken = await register('{"username": ', { 'content-type': 'application/json' })
    t.equal(broken.statusCode, 400)
    t.ok(broken.json().non_field_errors)
    const array = await register([1, 2])
    t.equal(array.statusCode, 400)
    const xml = await register('<user/>', { 'content-type': 'application/xml' })
    t.equal(xml.statusCode, 415)
    const proto = await register(
      '{"username":"mallory","password":"correct-horse-battery","__proto__":{"is_admin":true}}',
      { 'content-type': 'application/json' },
    )
    t.equal(proto.statusCode, 400, 'prototype poisoning is refused outright')
    t.notOk(({} as Record<string, unknown>).is_admin, 'no prototype pollution')
  })
})

t.test('one address may register a few accounts per window, then 429', async (t) => {
  const stack = await startStack(t, {
    chatInstances: 0,
    registrationLimits: { maxPerIp: 3, windowSeconds: 3600 },
  })
  const register = (username: string, remoteAddress = '10.0.2.1') =>
    stack.auth.app.inject({
      method: 'POST',
      url: '/register',
      payload: { username, password: 'correct-horse-battery' },
      remoteAddress,
    })
  const codes = []
  for (const name of ['ann', 'ben', 'cat', 'dan']) codes.push((await register(name)).statusCode)
  t.same(codes, [201, 201, 201, 429])
  const refused = await register('eve')
  t.match(refused.headers['retry-after'], /^\d+$/)
  t.match(refused.json(), { detail: /Too many registrations from this address/ })
  t.equal((await register('eve', '10.0.2.2')).statusCode, 201, 'another address has its own')
  t.equal(
    await stack.login('ann', 'correct-horse-battery').then(() => 200),
    200,
    'logins unaffected',
  )
})

t.test('a flood of registrations cannot starve a login', async (t) => {
  const stack = await startStack(t, {
    chatInstances: 0,
    // One hash at a time, at the production cost, and little room to wait: a flood fills it.
    passwordHashing: { concurrency: 1, maxWaiting: 4, cost: 15 },
  })
  await stack.register('alice')
  const flood = Array.from({ length: 40 }, (_, i) =>
    stack.auth.app.inject({
      method: 'POST',
      url: '/register',
      payload: { username: `flood-${i}`, password: 'correct-horse-battery' },
      remoteAddress: `10.0.3.${i}`,
    }),
  )
  const login = await stack.auth.app.inject({
    method: 'POST',
    url: '/login',
    payload: { username: 'alice', password: PASSWORD },
  })
  t.equal(login.statusCode, 200, 'the login is checked: registrations left it room')
  const answers = await Promise.all(flood)
  const codes = answers.map((answer) => answer.statusCode)
  t.ok(codes.includes(503), `the flood is told to come back: ${codes}`)
  t.ok(
    codes.every((code) => code === 201 || code === 503),
    'each one created, or refused',
  )
  const busy = answers.find((answer) => answer.statusCode === 503)
  t.equal(busy?.headers['retry-after'], '1')
  t.match(busy?.json(), { detail: /Try again shortly/ })
})
