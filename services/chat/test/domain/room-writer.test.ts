import { type Bus, createBus } from '@finchat/bus'
import { createDatabase } from '@finchat/db'
import { createTestDatabase } from '@finchat/db/testing'
import { type ChatEvent, STREAMS } from '@finchat/protocol'
import { sql } from 'kysely'
import t, { type Test as Tap } from 'tap'
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
    log: { error: () => {}, warn: () => {} },
    ...options,
  })

/** Message ids announced on the bus from now on, in stream order. */
async function announcedOn(t: Tap, bus: Bus) {
  const ids: number[] = []
  const subscription = bus.subscribe<ChatEvent>(STREAMS.chatEvents, (entries) => {
    for (const { data } of entries) if (data.type === 'room.message') ids.push(data.id)
  })
  await subscription.ready
  t.teardown(() => subscription.close())
  // The stream has been running: it reaches back before the messages the tests store.
  await bus.append(STREAMS.chatEvents, { type: 'room.parted', room: '-', user: '-', stamp: '-' })
  return ids
}

/** A bus whose appends of the given bodies fail, as Redis would mid-batch. */
function flakyBus(bus: Bus, failing: Set<string>): Bus {
  return {
    ...bus,
    append(stream, data, fence) {
      const body = (data as { body?: string }).body ?? ''
      if (failing.has(body)) return Promise.reject(new Error('redis: connection lost'))
      return bus.append(stream, data, fence)
    },
  }
}

t.test(
  'a burst is stored and announced in id order; a failed announcement is undone',
  async (t) => {
    const bus = createBus()
    t.teardown(() => bus.close())
    const room = await rooms.create(`burst-${process.pid}`)
    const announced = await announcedOn(t, bus)
    const writer = createRoomWriter({
      db,
      messages,
      events: createChatEvents({ bus: flakyBus(bus, new Set(['m7'])), instanceId: 'chat-1' }),
      log: { error: () => {}, warn: () => {} },
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
    async append(stream, data, fence) {
      await new Promise((resolve) => setTimeout(resolve, ms))
      return bus.append(stream, data, fence)
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

t.test(
  "on one session (PGlite's): no room locks, and a busy writer spaces its inserts by its window",
  async (t) => {
    const bus = createBus()
    t.teardown(() => bus.close())
    const room = await rooms.create(`window-${process.pid}`)
    const announced = await announcedOn(t, bus)
    const inserts: string[][] = []
    const counting = {
      ...messages,
      insert: (batch: Parameters<typeof messages.insert>[0], conn: typeof db) => {
        inserts.push(batch.map((message) => message.body))
        return messages.insert(batch, conn)
      },
      lockRoomsAndInsert: () => Promise.reject(new Error('no room locks on one session')),
    }
    const writer = createRoomWriter({
      db,
      messages: counting,
      events: createChatEvents({ bus, instanceId: 'chat-1' }),
      log: { error: () => {}, warn: () => {} },
      roomLocks: false,
      batchWindowMs: 1000,
    })
    const post = (body: string, i: number) =>
      writer.post({ room, userId: i + 1, username: `user${i}`, body })

    const quiet = Date.now()
    await post('first', 0)
    t.ok(Date.now() - quiet < 1000, 'a message after a quiet spell is stored without waiting')
    // Four more while the window of the first is open, arriving one by one.
    const more: Promise<unknown>[] = []
    for (const [i, body] of ['a', 'b', 'c', 'd'].entries()) {
      more.push(post(body, i + 1))
      await new Promise((resolve) => setImmediate(resolve))
    }
    await Promise.all(more)

    t.same(inserts, [['first'], ['a', 'b', 'c', 'd']], 'the four went in one statement')
    const stored = (await messages.page({ roomId: room.id, limit: 10 })).reverse()
    t.same(
      stored.map((m) => m.body),
      ['first', 'a', 'b', 'c', 'd'],
    )
    t.same(
      announced,
      stored.map((m) => m.id),
      'announced in id order',
    )
    t.equal(await heldLocks(), 0, 'no lock was taken')
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
      log: { error: () => {}, warn: () => {} },
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

/** Waits until the bus has delivered the message `id`. */
const untilSeen = async (ids: number[], id: number) => {
  while (!ids.includes(id)) await new Promise((resolve) => setImmediate(resolve))
}

t.test('an append whose reply is lost: on the stream, so kept and not refused', async (t) => {
  const bus = createBus()
  t.teardown(() => bus.close())
  const announced = await announcedOn(t, bus)
  const room = await rooms.create(`lost-reply-${process.pid}`)
  const lostReply: Bus = {
    ...bus,
    async append(stream, data, fence) {
      const id = await bus.append(stream, data, fence)
      if ((data as { body?: string }).body === 'lost reply') throw new Error('redis: timed out')
      return id
    },
  }
  const writer = writerOn(lostReply)
  const posted = await writer.post({ room, userId: 1, username: 'ann', body: 'lost reply' })
  t.same(posted, {}, 'the sender is not refused: its echo comes from the stream')
  const [kept] = await messages.page({ roomId: room.id, limit: 10 })
  t.equal(kept?.body, 'lost reply', 'the message members received stays in the history')
  await untilSeen(announced, kept?.id as number)
  t.equal(announced.filter((id) => id === kept?.id).length, 1, 'announced once')
})

t.test('an append refused before it was written: not on the stream, so removed', async (t) => {
  const bus = createBus()
  t.teardown(() => bus.close())
  await announcedOn(t, bus)
  const room = await rooms.create(`refused-append-${process.pid}`)
  const writer = writerOn(flakyBus(bus, new Set(['never written'])))
  await t.rejects(
    writer.post({ room, userId: 1, username: 'ann', body: 'never written', clientId: 'c-1' }),
    /connection lost/,
    'the sender is refused',
  )
  t.same(await messages.page({ roomId: room.id, limit: 10 }), [], 'and nothing is kept')
  // Nothing is kept under its name either: sent again, it is stored and announced.
  const again = writerOn(bus)
  t.same(await again.post({ room, userId: 1, username: 'ann', body: 'again', clientId: 'c-1' }), {})
  const stored = await messages.page({ roomId: room.id, limit: 10 })
  t.same(
    stored.map((m) => m.body),
    ['again'],
  )
})

t.test(
  'a refused append the stream cannot tell about is kept; sent again, it is answered with it',
  async (t) => {
    const bus = createBus()
    t.teardown(() => bus.close())
    const room = await rooms.create(`unknown-${process.pid}`)
    const down: Bus = {
      ...bus,
      append: () => Promise.reject(new Error('redis: connection lost')),
      range: () => Promise.reject(new Error('redis: connection lost')),
    }
    const message = { room, userId: 1, username: 'ann', body: 'maybe delivered', clientId: 'c-9' }
    await t.rejects(writerOn(down).post(message), /connection lost/, 'the sender is refused')
    const [kept] = await messages.page({ roomId: room.id, limit: 10 })
    t.equal(kept?.body, 'maybe delivered', 'kept, since members may have it')
    const again = await writerOn(bus).post({ ...message, body: 'the same, typed again' })
    t.same(again.repeated, kept, 'sent again under its name: answered with the kept one')
    t.equal((await messages.page({ roomId: room.id, limit: 10 })).length, 1, 'stored once')
  },
)

t.test('repeats in one batch: stored once, each answered with the original', async (t) => {
  const bus = createBus()
  t.teardown(() => bus.close())
  const announced = await announcedOn(t, bus)
  const room = await rooms.create(`repeats-${process.pid}`)
  const writer = writerOn(bus)
  const ann = { room, userId: 1, username: 'ann', clientId: 'same' }
  // Posted in the same tick, so they go in one statement.
  const [first, second, plain, bob, third] = await Promise.all([
    writer.post({ ...ann, body: 'one' }),
    writer.post({ ...ann, body: 'two' }),
    writer.post({ room, userId: 1, username: 'ann', body: 'no name' }),
    writer.post({ room, userId: 2, username: 'bob', body: 'bob', clientId: 'same' }),
    writer.post({ ...ann, body: 'three' }),
  ])
  const stored = (await messages.page({ roomId: room.id, limit: 10 })).reverse()
  t.same(
    stored.map((m) => m.body),
    ['one', 'no name', 'bob'],
    "the first of ann's, the one without a name, and bob's own: the same name is his own",
  )
  t.same(first, {})
  t.same(plain, {})
  t.same(bob, {})
  t.same(second?.repeated, stored[0], 'a repeat is answered with the first')
  t.same(third?.repeated, stored[0])
  await untilSeen(announced, stored[2]?.id as number)
  t.same(
    announced,
    stored.map((m) => m.id),
    'only what was stored is announced',
  )
})

t.test('a repeat of a message another instance is still announcing waits for it', async (t) => {
  if (!process.env.DATABASE_URL) {
    t.pass('skipped: needs PostgreSQL (DATABASE_URL)')
    return
  }
  const bus = createBus()
  t.teardown(() => bus.close())
  const announced = await announcedOn(t, bus)
  const room = await rooms.create(`in-flight-${process.pid}`)
  const second = await createDatabase(testDb.config)
  t.teardown(() => second.close())
  let release = () => {}
  const held = new Promise<void>((resolve) => {
    release = resolve
  })
  // The first instance stores the message, then waits before appending, holding the room.
  const first = writerOn({
    ...bus,
    async append(stream, data, fence) {
      await held
      return bus.append(stream, data, fence)
    },
  })
  const message = { room, userId: 1, username: 'ann', body: 'in flight', clientId: 'c-7' }
  const original = first.post(message)
  while ((await messages.page({ roomId: room.id, limit: 1 })).length === 0) {
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  const otherDb = chatDb(second.db)
  const other = createRoomWriter({
    db: otherDb,
    messages: createMessagesRepository(otherDb),
    events: createChatEvents({ bus, instanceId: 'chat-2' }),
    log: { error: () => {}, warn: () => {} },
  })
  let repeatSettled = false
  const repeat = other.post(message).finally(() => {
    repeatSettled = true
  })
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.notOk(repeatSettled, 'the repeat waits for the room while the original is being announced')
  release()
  t.same(await original, {})
  const [stored] = await messages.page({ roomId: room.id, limit: 10 })
  t.same((await repeat).repeated, stored, 'then it is answered with the original')
  await untilSeen(announced, stored?.id as number)
  t.same(announced, [stored?.id], 'which was announced once')
})
