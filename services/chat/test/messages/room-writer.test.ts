import { type Bus, createBus } from '@finchat/bus'
import { createDatabase } from '@finchat/db'
import { createTestDatabase } from '@finchat/db/testing'
import { type ChatEvent, STREAMS } from '@finchat/protocol'
import { sql } from 'kysely'
import t from 'tap'
import { chatDb, migrateChat } from '../../src/db/migrate.js'
import { createMessagesRepository } from '../../src/messages/messages.repository.js'
import { createRoomWriter } from '../../src/messages/room-writer.js'
import { createRoomsRepository } from '../../src/rooms/rooms.repository.js'

// Messages posted to a room at the same moment go under one lock, in one insert: each is stored
// and announced in the order of its id, and one that cannot be announced is refused and not
// kept, without taking the others with it.

const testDb = await createTestDatabase()
t.teardown(() => testDb.drop())
const database = await createDatabase(testDb.config)
t.teardown(() => database.close())
await migrateChat(database.db)
const db = chatDb(database.db)
const messages = createMessagesRepository(db)
const rooms = createRoomsRepository(db)

/** A bus whose appends of the given bodies fail, as Redis would mid-batch. */
function flakyBus(bus: Bus, failing: Set<string>): Bus {
  return {
    ...bus,
    append(stream, data) {
      const body = (data as { body?: string }).body ?? ''
      if (failing.has(body)) return Promise.reject(new Error('redis: connection lost'))
      return bus.append(stream, data)
    },
  }
}

t.test(
  'a burst is stored and announced in id order; a failed announcement is undone',
  async (t) => {
    const bus = createBus()
    t.teardown(() => bus.close())
    const room = await rooms.create(`burst-${process.pid}`)
    const announced: number[] = []
    const subscription = bus.subscribe<ChatEvent>(STREAMS.chatEvents, (entries) => {
      for (const { data } of entries) if (data.type === 'room.message') announced.push(data.id)
    })
    await subscription.ready
    t.teardown(() => subscription.close())
    const writer = createRoomWriter({
      db,
      messages,
      bus: flakyBus(bus, new Set(['m7'])),
      instanceId: 'chat-1',
      log: { error: () => {} },
    })

    const bodies = Array.from({ length: 30 }, (_, i) => `m${i}`)
    const outcomes = await Promise.allSettled(
      bodies.map((body, i) => writer.post({ room, userId: i + 1, username: `user${i}`, body })),
    )
    t.same(
      outcomes.map((outcome, i) => (outcome.status === 'rejected' ? bodies[i] : 'ok')),
      bodies.map((body) => (body === 'm7' ? 'm7' : 'ok')),
      'only the message that could not be announced is refused',
    )
    const stored = (await messages.page({ roomId: room.id, limit: 100 })).reverse()
    t.same(
      stored.map((m) => m.body),
      bodies.filter((body) => body !== 'm7'),
      'the others are stored in the order they were posted; the refused one is not',
    )
    while (announced.length < stored.length) await new Promise((resolve) => setImmediate(resolve))
    t.same(
      announced,
      stored.map((m) => m.id),
      'announced in id order, each once',
    )
  },
)

t.test('a long burst goes in several batches, then the room is let go', async (t) => {
  const bus = createBus()
  t.teardown(() => bus.close())
  const room = await rooms.create(`long-burst-${process.pid}`)
  const writer = createRoomWriter({
    db,
    messages,
    bus,
    instanceId: 'chat-1',
    log: { error: () => {} },
    maxBatch: 5,
    maxHeld: 2,
  })
  const bodies = Array.from({ length: 23 }, (_, i) => `b${i}`)
  await Promise.all(
    bodies.map((body, i) => writer.post({ room, userId: i + 1, username: `user${i}`, body })),
  )
  const stored = (await messages.page({ roomId: room.id, limit: 100 })).reverse()
  t.same(
    stored.map((m) => m.body),
    bodies,
    'all stored, in order',
  )
  const { rows } = await sql<{ held: number }>`
    select count(*)::int as held from pg_locks
    where locktype = 'advisory' and objid = ${room.id}
      and database = (select oid from pg_database where datname = current_database())
  `.execute(db)
  t.equal(rows[0]?.held, 0, 'no room lock is left held')
})
