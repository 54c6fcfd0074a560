import { startStack } from '@finchat/testing'
import t from 'tap'

t.test('two users meet in a room, chat and part', async (t) => {
  const stack = await startStack(t)
  await stack.createRooms('friends', 'family')
  const alice = await stack.user('alice')
  const bob = await stack.user('bob')

  const aliceJoined = await alice.join('friends')
  t.match(aliceJoined, {
    you: true,
    user: 'alice',
    room_name: 'friends',
    status: { users: [{ name: 'alice', you: true }], messages: [] },
  })

  const bobJoined = await bob.join('friends')
  t.same(bobJoined.status?.users, [
    { name: 'alice', you: false },
    { name: 'bob', you: true },
  ])
  t.match(await alice.next((f) => f.type === 'room:notification' && f.code === 'joined'), {
    you: false,
    user: 'bob',
    status: null,
  })

  const echo = await alice.say('friends', 'hello bob')
  t.match(echo, { you: true, user: 'alice', body: 'hello bob', id: Number })
  t.match(await bob.next((f) => f.type === 'room:notification' && f.code === 'message'), {
    you: false,
    user: 'alice',
    body: 'hello bob',
    id: echo.id,
  })

  bob.send({ type: 'part', room_name: 'friends' })
  t.match(await bob.next((f) => f.type === 'room:notification' && f.code === 'parted'), {
    you: true,
    user: 'bob',
  })
  t.match(await alice.next((f) => f.type === 'room:notification' && f.code === 'parted'), {
    you: false,
    user: 'bob',
  })

  bob.send({ type: 'list' })
  t.match(await bob.next((f) => f.type === 'notification' && f.code === 'list'), {
    list: [
      { name: 'family', joined: false },
      { name: 'friends', joined: false },
    ],
  })
})
