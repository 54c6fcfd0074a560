import t from 'tap'
import {
  createMemoryPresence,
  createMemoryPresenceState,
} from '../../src/presence/memory-presence.js'

const pair = () => {
  const state = createMemoryPresenceState()
  return [createMemoryPresence('a', state), createMemoryPresence('b', state)] as const
}

t.test('one holder per user, released only by its holder', async (t) => {
  const [a, b] = pair()
  t.equal(a.instanceId, 'a')
  t.equal(await a.claimUser(1), true, 'a free user is claimed')
  t.equal(await a.claimUser(1), false, 'not twice by the same instance')
  t.equal(await b.claimUser(1), false, 'nor by another instance')
  t.equal(await b.claimUser(2), true, 'other users are independent')

  await b.releaseUser(1)
  t.equal(await b.claimUser(1), false, 'a release by another instance frees nothing')
  await a.releaseUser(1)
  t.equal(await b.claimUser(1), true, 'the holder releases the user')
  t.equal(await a.claimUser(1), false)
})

t.test('room members: shared by the instances, sorted by code point', async (t) => {
  const [a, b] = pair()
  for (const [presence, user] of [
    [a, 'zoe'],
    [b, 'Bob'],
    [a, 'Älva'],
    [b, '_x'],
    [a, 'alice'],
    [b, 'alice'],
    [a, '\u{1D49C}da'],
    [b, '\uFF5Aed'],
  ] as const) {
    await presence.join('friends', user)
  }
  await a.join('family', 'bob')
  // U+FF5A sorts before U+1D49C by code point, although its UTF-16 unit is the larger.
  const expected = ['Bob', '_x', 'alice', 'zoe', 'Älva', '\uFF5Aed', '\u{1D49C}da']
  t.same(await a.members('friends'), expected, 'code-point order, each member once')
  t.same(await b.members('friends'), expected, 'the same from every instance')
  t.not(
    expected.join(),
    [...expected].sort((x, y) => x.localeCompare(y)).join(),
    'the order is not a locale collation',
  )

  await b.part('friends', 'zoe')
  await a.part('friends', 'nobody')
  t.same(await a.members('friends'), ['Bob', '_x', 'alice', 'Älva', '\uFF5Aed', '\u{1D49C}da'])
  t.same(await a.members('nowhere'), [])

  await b.forgetRoom('friends')
  t.same(await a.members('friends'), [])
  t.same(await b.members('family'), ['bob'], 'other rooms are untouched')
  await a.part('family', 'bob')
  t.same(await a.members('family'), [])
})

t.test('stop releases the instance own claims, not the others', async (t) => {
  const [a, b] = pair()
  await a.start({ onOrphans: async () => {}, onEvicted: () => {}, onRecordsLost: async () => {} })
  t.equal(await a.ping(), true)
  await a.claimUser(1)
  await a.claimUser(2)
  await b.claimUser(3)
  await a.stop()
  t.equal(await b.claimUser(1), true, 'freed by the stop')
  t.equal(await b.claimUser(2), true)
  t.equal(await a.claimUser(3), false, 'b still holds its user')
})

t.test('separate states are separate clusters', async (t) => {
  const a = createMemoryPresence('a')
  const b = createMemoryPresence('b')
  t.equal(await a.claimUser(1), true)
  t.equal(await b.claimUser(1), true)
  await a.join('friends', 'alice')
  t.same(await b.members('friends'), [])
})
