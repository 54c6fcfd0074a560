import type { ChatEvent } from '@finchat/protocol'
import t from 'tap'
import { createRoomDispatch } from '../../src/events/room-dispatch.js'
import type { ChatConnection } from '../../src/transport/chat-connection.js'
import { createConnectionRegistry } from '../../src/transport/connection-registry.js'

/** The text of a prepared websocket frame: after a header of 2, 4 or 10 bytes. */
const textOf = (frame: Buffer) =>
  frame.subarray(frame[1] === 127 ? 10 : frame[1] === 126 ? 4 : 2).toString()

/** Just enough of a connection to receive frames. */
function fakeConnection(username: string) {
  const received: string[] = []
  const prepared: Buffer[] = []
  const connection = {
    id: `c-${username}`,
    username,
    session: { sessionId: `s-${username}` },
    joined: new Map(),
    send: (frame: string) => received.push(frame),
    sendPrepared: (frame: Buffer) => {
      prepared.push(frame)
      received.push(textOf(frame))
    },
    sendLater: async (frame: Promise<string | null>) => {
      const value = await frame
      if (value) received.push(value)
    },
  } as unknown as ChatConnection
  return { connection, received, prepared }
}

t.test(
  'an event reaching many members is serialized once per variant, with no storage work',
  async (t) => {
    const registry = createConnectionRegistry()
    const members = Array.from({ length: 200 }, (_, i) => fakeConnection(`user${i}`))
    for (const { connection } of members) {
      registry.add(connection)
      registry.enterAudience('friends', connection)
    }
    let statusLookups = 0
    const handle = createRoomDispatch({
      instanceId: 'chat-1',
      audiences: registry,
      statusFor: async () => {
        statusLookups++
        return { users: [], messages: [] }
      },
      log: { error: () => t.fail('no dispatch error') },
    })
    const event: ChatEvent = {
      type: 'room.message',
      id: 7,
      room: 'friends',
      user: 'user3',
      body: 'hello',
      stamp: '2026-11-27 12:00:00',
      instance: 'chat-2',
    }

    const stringify = JSON.stringify
    let serializations = 0
    JSON.stringify = ((...args: Parameters<typeof stringify>) => {
      serializations++
      return stringify(...args)
    }) as typeof JSON.stringify
    try {
      handle([{ id: '1-0', data: event }])
    } finally {
      JSON.stringify = stringify
    }

    t.equal(serializations, 2, 'one frame for the sender, one for everyone else')
    t.equal(statusLookups, 0, 'delivering a message reads nothing')
    t.equal(
      members.every(({ received }) => received.length === 1),
      true,
      'every member got it once',
    )
    t.match(JSON.parse(members[3]?.received[0] as string), { you: true, id: 7, body: 'hello' })
    t.match(JSON.parse(members[4]?.received[0] as string), { you: false, user: 'user3' })
    t.equal(
      members[4]?.prepared[0],
      members[5]?.prepared[0],
      'the same frame, bytes and all, for every other member',
    )
  },
)

t.test('a deleted room parts its members with you: true', async (t) => {
  const registry = createConnectionRegistry()
  const alice = fakeConnection('alice')
  registry.add(alice.connection)
  registry.enterAudience('friends', alice.connection)
  alice.connection.joined.set('friends', { id: 1, name: 'friends' })
  const handle = createRoomDispatch({
    instanceId: 'chat-1',
    audiences: registry,
    statusFor: async () => ({ users: [], messages: [] }),
    log: { error: () => {} },
  })
  handle([
    { id: '1-0', data: { type: 'room.deleted', room: 'friends', stamp: '2026-11-27 12:00:00' } },
  ])
  t.match(JSON.parse(alice.received[0] as string), {
    code: 'parted',
    you: true,
    user: 'alice',
    room_name: 'friends',
  })
  t.equal(alice.connection.joined.has('friends'), false)
  t.equal(registry.audience('friends'), undefined)
})
