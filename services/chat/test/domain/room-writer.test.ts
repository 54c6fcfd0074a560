import { type Bus, createBus } from '@finchat/bus'
import { createDatabase } from '@finchat/db'
import { createTestDatabase } from '@finchat/db/testing'
import { type ChatEvent, STREAMS } from '@finchat/protocol'
import { sql } from 'kysely'
import t from 'tap'
import { chatDb, migrateChat } from '../../src/db/migrate.js'
import { createMessagesRepository } from '../../src/domain/messages.repository.js'
import { createRoomWriter } from '../../src/domain/room-writer.js'
import { createRoomsRepository } from '../../src/domain/rooms.repository.js'
import { createChatEvents } from '../../src/events/chat-events.js'

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

/** A writer of one instance on this test's database, as the chat service makes it. */
const writerOn = (bus: Bus, options: { maxBatch?: number } = {}) =>
  createRoomWriter({
    db,
    messages,
    events: createChatEvents({ bus, instanceId: 'chat-1' }),
    log: { error: () => {} },
    ...options,
  })

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
      events: createChatEvents({ bus: flakyBus(bus, new Set(['m7'])), instanceId: 'chat-1' }),
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

t.test(
  'bodies that mean something in SQL or an array literal are stored as they were sent',
  async (t) => {
    const bus = createBus()
    t.teardown(() => bus.close())
    const room = await rooms.create(`literal-${process.pid}`)
    const writer = writerOn(bus)
    const bodies = [
      'he said "hi", then {left}',
      'back\\slash \\" and a quote\'s',
      'NULL',
      ' spaces kept ',
      'émoji 🎉, ünïcödé',
      "'); drop table chat.messages; --",
    ]
    await Promise.all(
      bodies.map((body, i) => writer.post({ room, userId: i + 1, username: `user${i}`, body })),
    )
    const stored = (await messages.page({ roomId: room.id, limit: 100 })).reverse()
    t.same(
      stored.map((m) => m.body),
      bodies,
    )
  },
)

/** A bus whose appends take `ms` longer to land, as a busy Redis would. */
function slowBus(bus: Bus, ms: number): Bus {
  return {
    ...bus,
    async append(stream, data) {
      await new Promise((resolve) => setTimeout(resolve, ms))
      return bus.append(stream, data)
    },
  }
}

/** Advisory locks held on this test's database. */
async function heldLocks(): Promise<number> {
  const { rows } = await sql<{ held: number }>`
    select count(*)::int as held from pg_locks
    where locktype = 'advisory'
      and database = (select oid from pg_database where datname = current_database())
  `.execute(db)
  return rows[0]?.held ?? 0
}

t.test(
  'a long burst over several rooms goes in several batches, then the rooms are let go',
  async (t) => {
    const bus = createBus()
    t.teardown(() => bus.close())
    const [red, blue] = await Promise.all([
      rooms.create(`long-burst-red-${process.pid}`),
      rooms.create(`long-burst-blue-${process.pid}`),
    ])
    const writer = writerOn(bus, { maxBatch: 5 })
    const posted = Array.from({ length: 23 }, (_, i) => ({
      room: i % 3 === 0 ? blue : red,
      userId: i + 1,
      username: `user${i}`,
      body: `b${i}`,
    }))
    await Promise.all(posted.map((message) => writer.post(message)))
    for (const room of [red, blue]) {
      const stored = (await messages.page({ roomId: room.id, limit: 100 })).reverse()
      t.same(
        stored.map((m) => m.body),
        posted.filter((m) => m.room === room).map((m) => m.body),
        `${room.name}: all stored, in order`,
      )
    }
    t.equal(await heldLocks(), 0, 'no room lock is left held')
  },
)

t.test('two instances writing to the same rooms keep each room in id order', async (t) => {
  if (!process.env.DATABASE_URL) {
    // Two instances need one database: PGlite lives inside a single process.
    t.pass('skipped: needs PostgreSQL (DATABASE_URL)')
    return
  }
  const bus = createBus()
  t.teardown(() => bus.close())
  const shared = await Promise.all(
    ['one', 'two', 'three'].map((name) => rooms.create(`shared-${name}-${process.pid}`)),
  )
  const announced = new Map<string, number[]>()
  const subscription = bus.subscribe<ChatEvent>(STREAMS.chatEvents, (entries) => {
    for (const { data } of entries) {
      if (data.type === 'room.message') {
        announced.set(data.room, [...(announced.get(data.room) ?? []), data.id])
      }
    }
  })
  await subscription.ready
  t.teardown(() => subscription.close())
  // Each instance has its own connections, so each takes the rooms' locks for itself.
  const second = await createDatabase(testDb.config)
  t.teardown(() => second.close())
  const writers = [db, chatDb(second.db)].map((instanceDb, i) =>
    createRoomWriter({
      db: instanceDb,
      messages: createMessagesRepository(instanceDb),
      // The first instance's Redis is slow: without the rooms' locks, the second one's later
      // ids would reach the stream first.
      events: createChatEvents({
        bus: i === 0 ? slowBus(bus, 20) : bus,
        instanceId: `chat-${i + 1}`,
      }),
      log: { error: () => {} },
      maxBatch: 7,
    }),
  )
  // Bursts of different rooms in a different order on each instance, as clients happen to send.
  const sends = Array.from({ length: 120 }, (_, i) => {
    const writer = writers[i % 2] as (typeof writers)[number]
    const room = shared[(i * (i % 2 === 0 ? 1 : 2)) % 3] as (typeof shared)[number]
    return writer.post({ room, userId: i + 1, username: `user${i}`, body: `s${i}` })
  })
  await Promise.all(sends)
  for (const room of shared) {
    const stored = (await messages.page({ roomId: room.id, limit: 200 })).reverse()
    while ((announced.get(room.name) ?? []).length < stored.length) {
      await new Promise((resolve) => setImmediate(resolve))
    }
    t.same(
      announced.get(room.name),
      stored.map((m) => m.id),
      `${room.name}: announced in the order of its history`,
    )
  }
  t.equal(
    [...announced.values()].reduce((total, ids) => total + ids.length, 0),
    120,
    'every message stored and announced once',
  )
  t.equal(await heldLocks(), 0, 'no room lock is left held')
})

t.test(
  'a batch PostgreSQL refuses is refused to its senders, and the rooms are let go',
  async (t) => {
    const bus = createBus()
    t.teardown(() => bus.close())
    const room = await rooms.create(`refused-${process.pid}`)
    const writer = writerOn(bus)
    await writer.post({ room, userId: 1, username: 'ann', body: 'first' })
    // A NUL character is not valid in PostgreSQL text: the statement fails after taking the lock.
    await t.rejects(writer.post({ room, userId: 1, username: 'ann', body: 'nul \u0000 here' }))
    t.equal(await heldLocks(), 0, 'no room lock is left held')
    await writer.post({ room, userId: 1, username: 'ann', body: 'after' })
    const stored = (await messages.page({ roomId: room.id, limit: 10 })).reverse()
    t.same(
      stored.map((m) => m.body),
      ['first', 'after'],
    )
  },
)
