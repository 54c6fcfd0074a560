import t from 'tap'
import { isFatal, startStory } from './helpers/client-story.js'

// A connection does not outlive the token it was opened with: when the token expires, the
// connection hears `logged-out` (reason `expired`, which a client that ignores it takes for a
// logout) and is closed with 1000; its rooms see it leave, and the token opens nothing more.

t.test('a token expiring while its connection is open', async (t) => {
  const story = await startStory(t, { tokenTtlSeconds: 2 })
  const { stack } = story
  await stack.createRooms('lobby')
  const token = await stack.token('alice')
  const alice = await story.connect(token)
  await alice.next((f) => f.type === 'notification' && f.code === 'api-motd')
  await alice.join('lobby')

  t.same(await alice.next(undefined, 10_000), {
    type: 'notification',
    code: 'logged-out',
    reason: 'expired',
  })
  t.equal((await alice.closed).code, 1000, 'then closed with 1000')

  // Someone in the room with a token of its own, fresh: alice is no longer a member.
  const bob = await story.user('bob')
  const joined = await bob.join('lobby')
  t.same(
    joined.status?.users.map((u) => u.name),
    ['bob'],
    'alice left the room',
  )

  const again = await story.connect(token)
  t.match(
    await again.next(isFatal),
    { code: 'not-authenticated' },
    'the expired token opens nothing',
  )
  story.conformance(t)
})
