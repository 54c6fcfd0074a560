import t from 'tap'
import { chatDb } from '../../src/db/migrate.js'
import { createRoomAdmin } from '../../src/domain/room-admin.js'
import { inRoom, joinedBy, messageIn, startStory } from '../helpers/client-story.js'

// Room administration as another process does it (the admin CLI, a first start), with no HTTP
// in between: on the deployment's database, bus and presence, beside two running instances.

const story = await startStory(t, { chatInstances: 2 })
const { stack } = story
const db = chatDb(stack.database.db)
const admin = createRoomAdmin({ db, ...stack.outsider() })
const connect = async (username: string, index: number) =>
  story.watch(await stack.user(username, index))

t.test('create refuses bad names and duplicates, in any letter case', async (t) => {
  t.match(await admin.create('ledger'), { ok: true, room: { name: 'ledger', id: Number } })
  for (const name of ['ledger', 'Ledger', 'LEDGER']) {
    t.same(
      await admin.create(name),
      { ok: false, problem: 'A room with that name already exists.' },
      `${name}: a duplicate`,
    )
  }
  t.same(await admin.create(''), { ok: false, problem: 'This field may not be blank.' })
  t.same(await admin.create('x'.repeat(51)), {
    ok: false,
    problem: 'Ensure this field has no more than 50 characters.',
  })
  for (const name of ['1abc', 'a--b', 'with space']) {
    const created = await admin.create(name)
    t.match(created, { ok: false, problem: /letter|hyphen/ }, `${name}: refused`)
  }
  const names = (await admin.list()).map((room) => room.name)
  t.same(
    names.filter((name) => name.toLowerCase() === 'ledger'),
    ['ledger'],
    'one room, none of the refused',
  )
  t.same(names, [...names].sort(), 'listed in code-point order')
})

t.test('deleting a room parts its members on every instance and forgets them', async (t) => {
  t.match(await admin.create('doomed'), { ok: true })
  const alice = await connect('alice', 0)
  const bob = await connect('bob', 1)
  await alice.join('doomed')
  await bob.join('doomed')
  await alice.next(joinedBy('bob', 'doomed'))
  await alice.say('doomed', 'soon gone')
  await bob.next(messageIn('doomed', 'alice'))

  t.match(await admin.delete('DOOMED'), { name: 'doomed' }, 'found in any letter case')
  // What each sees next of the room is their own parting, as if they had left.
  const parted = await Promise.all([alice.next(inRoom('doomed')), bob.next(inRoom('doomed'))])
  const stamps = parted.map((frame) => (frame as { stamp: string }).stamp)
  t.same(parted, [
    {
      type: 'room:notification',
      code: 'parted',
      you: true,
      user: 'alice',
      room_name: 'doomed',
      stamp: stamps[0],
    },
    {
      type: 'room:notification',
      code: 'parted',
      you: true,
      user: 'bob',
      room_name: 'doomed',
      stamp: stamps[1],
    },
  ])
  t.notOk(
    (await admin.list()).some((room) => room.name === 'doomed'),
    'gone from the list',
  )
  t.equal(await admin.delete('doomed'), undefined, 'deleting it again: no such room')

  // Its members were forgotten with it: a room created again under the name starts empty.
  t.match(await admin.create('doomed'), { ok: true })
  const carol = await connect('carol', 1)
  t.same(
    (await carol.join('doomed')).status,
    { users: [{ name: 'carol', you: true }], messages: [] },
    'no member left behind, no history',
  )
})

t.test('without a bus or a presence store, a deletion only removes the room', async (t) => {
  const offline = createRoomAdmin({ db })
  t.match(await offline.create('offline'), { ok: true })
  t.match(await offline.delete('offline'), { name: 'offline' })
  t.notOk((await offline.list()).some((room) => room.name === 'offline'))
})

t.test('conformance', async (t) => story.conformance(t))
