import type { ServerFrame } from '@finchat/protocol'
import type { ChatClient } from '@finchat/protocol/client'
import t, { type Test } from 'tap'
import {
  answersTo,
  isFatal,
  isMotd,
  joinedBy,
  messageIn,
  partedBy,
  startStory,
} from './helpers/client-story.js'

// The handshake and the life of a connection, as PROTOCOL.md "WebSocket: /ws/chat" and
// "Connection lifecycle" describe them, seen from real websocket clients.

const story = await startStory(t)
const { stack } = story
const instance = stack.chats[0] as (typeof stack.chats)[number]
const sameOrigin = instance.url // http://127.0.0.1:<port>
await stack.createRooms('lobby', 'lifecycle', 'cookies', 'twice', 'logouts', 'reconnects')

/** The only frame of a refused connection is `fatal` with `code`, then a close with 1000. */
async function refused(t: Test, client: ChatClient, code: string) {
  t.match(await client.next(isFatal), { type: 'fatal', code })
  t.equal((await client.closed).code, 1000, 'closed with 1000 after the fatal')
  t.same(
    client.frames.map((f) => f.type),
    ['fatal'],
    'nothing but the fatal frame was sent',
  )
}

async function motdThenHelp(t: Test, client: ChatClient) {
  const motd = await client.next()
  t.match(motd, { type: 'notification', code: 'api-motd', content: String }, 'first frame: MOTD')
  t.match((motd as { content: string }).content, '{"type": "help"}', 'the MOTD mentions help')
  t.same(await answersTo(client), [], 'help answers, and no second MOTD came before it')
}

t.test('a token in the Authorization header (Token scheme) gets the MOTD', async (t) => {
  const client = await story.open({
    headers: { authorization: `Token ${await stack.token('tok')}` },
  })
  await motdThenHelp(t, client)
})

t.test('the Bearer scheme is accepted like Token', async (t) => {
  const token = await stack.token('bearer')
  const client = await story.open({ headers: { authorization: `Bearer ${token}` } })
  await motdThenHelp(t, client)
})

t.test('?token= on /ws/chat/ (trailing slash) gets the MOTD', async (t) => {
  const token = await stack.token('querier')
  const client = await story.open({ path: '/ws/chat/', token, tokenIn: 'query' })
  await motdThenHelp(t, client)
})

t.test('?token= on /ws/chat (no slash) gets the MOTD', async (t) => {
  const token = await stack.token('querier2')
  const client = await story.open({ token, tokenIn: 'query' })
  await motdThenHelp(t, client)
})

t.test('refused handshakes: fatal not-authenticated, then close 1000', async (t) => {
  await t.test('no token at all', async (t) => {
    await refused(t, await story.open(), 'not-authenticated')
  })
  await t.test('no token on /ws/chat/', async (t) => {
    await refused(t, await story.open({ path: '/ws/chat/' }), 'not-authenticated')
  })
  await t.test('a garbage token in the header', async (t) => {
    await refused(t, await story.open({ token: 'x'.repeat(40) }), 'not-authenticated')
  })
  await t.test('a garbage token in the query', async (t) => {
    const client = await story.open({ token: 'not-a-token-at-all-really', tokenIn: 'query' })
    await refused(t, client, 'not-authenticated')
  })
  await t.test('a JWT-looking garbage token', async (t) => {
    const client = await story.open({ token: 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOjF9.c2ln' })
    await refused(t, client, 'not-authenticated')
  })
  await t.test('a revoked token (logged out)', async (t) => {
    const token = await stack.token('revoked')
    t.equal((await stack.logout(token)).statusCode, 204)
    await refused(t, await story.open({ token }), 'not-authenticated')
    await refused(t, await story.open({ token, tokenIn: 'query' }), 'not-authenticated')
  })
  await t.test('a malformed header wins over a valid ?token=', async (t) => {
    const token = await stack.token('header-wins')
    for (const authorization of [`Token a b`, 'Token', `Token ${token} extra`, `Bearer`]) {
      const client = await story.open({ headers: { authorization }, token, tokenIn: 'query' })
      t.comment(`Authorization: ${authorization}`)
      await refused(t, client, 'not-authenticated')
    }
    // The token itself is fine: alone in the query it is accepted.
    const fine = await story.open({ token, tokenIn: 'query' })
    t.ok(isMotd(await fine.next()), 'the same token alone is accepted')
  })
})

t.test('a second connection of the same user is refused; the first keeps working', async (t) => {
  const token = await stack.token('twice')
  const first = await story.connect(token)
  await first.next(isMotd)
  await first.join('twice')
  const bob = await story.user('twice-bob')
  await bob.join('twice')
  await first.next(joinedBy('twice-bob', 'twice'))

  await t.test('same token, header', async (t) => {
    await refused(t, await story.open({ token }), 'already-chatting')
  })
  await t.test('same token, query, trailing slash', async (t) => {
    await refused(
      t,
      await story.open({ token, tokenIn: 'query', path: '/ws/chat/' }),
      'already-chatting',
    )
  })
  await t.test('another session of the same user (a second login)', async (t) => {
    const other = await stack.login('twice')
    await refused(t, await story.open({ token: other }), 'already-chatting')
  })

  t.same(await answersTo(first), [], 'the first connection still answers')
  const echo = await first.say('twice', 'still here')
  t.match(echo, { you: true, user: 'twice', body: 'still here' })
  t.match(
    await bob.next((f) => f.type === 'room:notification' && f.room_name === 'twice'),
    { code: 'message', user: 'twice', body: 'still here' },
    'the others saw no parting of the first connection, only its next message',
  )
})

t.test('session cookie (web UI)', async (t) => {
  const token = await stack.token('cookie')
  const cookie = `finchat_session=${token}`

  await t.test('from a foreign Origin: not-authenticated', async (t) => {
    const client = await story.open({ headers: { cookie }, origin: 'http://evil.example' })
    await refused(t, client, 'not-authenticated')
  })
  await t.test('from a foreign port of the same host: not-authenticated', async (t) => {
    const port = Number(new URL(sameOrigin).port)
    const client = await story.open({ headers: { cookie }, origin: `http://127.0.0.1:${port + 1}` })
    await refused(t, client, 'not-authenticated')
  })
  await t.test('without an Origin: not-authenticated', async (t) => {
    await refused(t, await story.open({ headers: { cookie } }), 'not-authenticated')
  })
  await t.test('a garbage cookie from the same origin: not-authenticated', async (t) => {
    const client = await story.open({
      headers: { cookie: 'finchat_session=garbage-garbage-garbage' },
      origin: sameOrigin,
    })
    await refused(t, client, 'not-authenticated')
  })
  await t.test('from the same origin: accepted, without MOTD', async (t) => {
    const client = await story.open({ headers: { cookie }, origin: sameOrigin })
    t.same(await answersTo(client), [], 'the first frame is the answer to help: no MOTD')
    const joined = await client.join('cookies')
    t.match(joined, { you: true, user: 'cookie', room_name: 'cookies' })
    t.notOk(client.frames.some(isMotd), 'no MOTD at all for a cookie client')
    await client.close()
  })
  await t.test('the cookie of a logged-out session: not-authenticated', async (t) => {
    const other = await stack.login('cookie')
    await stack.logout(other)
    const client = await story.open({
      headers: { cookie: `finchat_session=${other}` },
      origin: sameOrigin,
    })
    await refused(t, client, 'not-authenticated')
  })
})

t.test('a plain HTTP request to the endpoint is a 4xx JSON error, not a page', async (t) => {
  for (const path of ['/ws/chat', '/ws/chat/', `/ws/chat?token=whatever`]) {
    const response = await fetch(`${sameOrigin}${path}`)
    t.ok(response.status >= 400 && response.status < 500, `${path}: ${response.status} is a 4xx`)
    t.match(response.headers.get('content-type'), /^application\/json/, `${path}: JSON`)
    const body = await response.text()
    t.doesNotThrow(() => JSON.parse(body), `${path}: the body is JSON`)
    t.notMatch(body, /<html/i, `${path}: not a page`)
  }
})

t.test('logout while connected: logged-out, close 1000, the room sees parted', async (t) => {
  const token = await stack.token('leaver')
  const leaver = await story.connect(token)
  await leaver.next(isMotd)
  const stayer = await story.user('stayer')
  await leaver.join('lifecycle')
  await stayer.join('lifecycle')
  await leaver.next(joinedBy('stayer', 'lifecycle'))

  t.equal((await stack.logout(token)).statusCode, 204)
  t.match(await leaver.next(), { type: 'notification', code: 'logged-out' })
  t.equal((await leaver.closed).code, 1000)
  t.match(await stayer.next((f) => f.type === 'room:notification'), {
    code: 'parted',
    you: false,
    user: 'leaver',
    room_name: 'lifecycle',
  })
  t.equal(
    leaver.frames.filter((f: ServerFrame) => f.type === 'notification' && f.code === 'logged-out')
      .length,
    1,
  )

  // A new login of the same user may chat again, and the old token stays refused.
  await refused(t, await story.open({ token }), 'not-authenticated')
  const again = await story.connect(await stack.login('leaver'))
  t.ok(isMotd(await again.next()), 'a fresh session connects')
  await again.close()
})

t.test('logout of another session of the user leaves the connection alone', async (t) => {
  const chatting = await stack.token('two-sessions')
  const elsewhere = await stack.login('two-sessions')
  const client = await story.connect(chatting)
  await client.next(isMotd)
  // A barrier on the session events: carol's logout is handled after the one before it.
  const carolToken = await stack.token('carol-barrier')
  const carol = await story.connect(carolToken)
  await carol.next(isMotd)

  t.equal((await stack.logout(elsewhere)).statusCode, 204)
  t.equal((await stack.logout(carolToken)).statusCode, 204)
  t.match(await carol.next(), { type: 'notification', code: 'logged-out' })
  t.same(await answersTo(client), [], 'still open, no logged-out')
  t.notOk(client.frames.some((f) => f.type === 'notification' && f.code === 'logged-out'))
  await client.close()
})

t.test('a disconnect parts every joined room, and the user can come back at once', async (t) => {
  const token = await stack.token('flaky')
  const watcher = await story.user('watcher')
  await watcher.join('reconnects')
  await watcher.join('lobby')
  for (let round = 1; round <= 10; round++) {
    const flaky = await story.connect(token)
    t.ok(isMotd(await flaky.next()), `round ${round}: connected, not already-chatting`)
    await flaky.join('reconnects')
    await flaky.join('lobby')
    await watcher.next(joinedBy('flaky', 'reconnects'))
    await watcher.next(joinedBy('flaky', 'lobby'))
    if (round % 2) await flaky.close()
    else flaky.socket.terminate()
    await watcher.next(partedBy('flaky', 'reconnects'))
    await watcher.next(partedBy('flaky', 'lobby'))
  }
  const last = await story.connect(token)
  t.ok(isMotd(await last.next()))
  const joined = await last.join('reconnects')
  t.same(
    joined.status?.users,
    [
      { name: 'flaky', you: true },
      { name: 'watcher', you: false },
    ],
    'no ghost of an earlier connection is left in the room',
  )
  await last.say('reconnects', 'back')
  t.match(await watcher.next(messageIn('reconnects')), { user: 'flaky', body: 'back' })
})

t.test('reconnecting right after the close is not already-chatting', async (t) => {
  const token = await stack.token('quick')
  for (let round = 1; round <= 20; round++) {
    const client = await story.connect(token)
    const first = await client.next()
    t.match(first, { type: 'notification', code: 'api-motd' }, `round ${round}`)
    if (first.type !== 'notification') break
    await client.join('lobby')
    await client.close()
  }
})

t.test('conformance', async (t) => story.conformance(t))
