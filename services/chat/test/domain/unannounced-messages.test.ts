import { setTimeout as delay } from 'node:timers/promises'
import { createBus } from '@finchat/bus'
import { type ChatEvent, formatStamp, type ServerFrame, STREAMS } from '@finchat/protocol'
import { type Stack, startStack } from '@finchat/testing'
import { Redis } from 'ioredis'
import { sql } from 'kysely'
import t, { type Test } from 'tap'
import { chatDb } from '../../src/db/migrate.js'
import type { RoomRow } from '../../src/db/schema.js'
import { createMessagesRepository } from '../../src/domain/messages.repository.js'
import { createChatEvents } from '../../src/events/chat-events.js'
import { createRedisPresence } from '../../src/presence/redis-presence.js'

// A chat instance stores a message, then announces it. When an instance dies between the two,
// the message would sit in the history although nobody received it and its sender saw no echo:
// the survivor that reaps the dead instance removes it. Here the dead instance is played by
// hand: its presence in Redis, its writes to the database and to the stream.

const TIMINGS = { heartbeatMs: 200, deadAfterMs: 1000 }
const GHOST = { id: 4242, name: 'ghost' }

const partedBy = (user: string) => (f: ServerFrame) =>
  f.type === 'room:notification' && f.code === 'parted' && f.user === user

/** The dead instance's side: presence holding GHOST in the room, and its own writes. */
async function deadInstance(t: Test, stack: Stack, room: { id: number; name: string }) {
  const redis = new Redis(process.env.REDIS_URL as string, { maxRetriesPerRequest: 0 })
  redis.on('error', () => {})
  t.teardown(() => redis.disconnect())
  const presence = createRedisPresence({
    redis,
    instanceId: 'doomed',
    prefix: stack.prefix,
    ...TIMINGS,
  })
  await presence.start({
    onOrphans: async () => {},
    onEvicted: () => {},
    onRecordsLost: async () => {},
  })
  await presence.claimUser(GHOST.id)
  await presence.join(room.name, GHOST.name)
  const bus = createBus({ redisUrl: process.env.REDIS_URL, prefix: stack.prefix })
  t.teardown(() => bus.close())
  const db = chatDb(stack.database.db)
  const messages = createMessagesRepository(db)
  return {
    db,
    bus,
    messages,
    /** Takes the room's lock on `conn` and stores a message, as a chat instance does. */
    async storeHoldingLock(body: string, conn: typeof db) {
      const [stored] = await messages.lockRoomsAndInsert(
        [room.id],
        [{ roomId: room.id, userId: GHOST.id, username: GHOST.name, body }],
        conn,
      )
      return stored as NonNullable<typeof stored>
    },
    /** Stores a message, then lets go of the room. */
    store(body: string) {
      return db.connection().execute(async (conn) => {
        const stored = await this.storeHoldingLock(body, conn)
        await messages.unlockRooms([room.id], conn)
        return stored
      })
    },
    async announce(stored: { id: number; body: string; created_at: Date }) {
      await bus.append(STREAMS.chatEvents, {
        type: 'room.message',
        id: stored.id,
        room: room.name,
        user: GHOST.name,
        body: stored.body,
        stamp: formatStamp(stored.created_at),
      } satisfies ChatEvent)
    },
    /** Falls silent without a goodbye, as SIGKILL does it. */
    die: () => redis.disconnect(),
    /** Resolves once a survivor is done reaping it (the reaper leaves a mark). */
    async reaped() {
      const inspector = new Redis(process.env.REDIS_URL as string)
      try {
        await until('the dead instance is reaped', async () =>
          Boolean(await inspector.exists(`${stack.prefix}chat:reaped:doomed`)),
        )
      } finally {
        inspector.disconnect()
      }
    },
  }
}

/** Carol in `friends` on a live instance, and an instance of the room about to die. */
async function carolBesideADeadInstance(t: Test) {
  const stack = await startStack(t, { chatInstances: 1, presenceTimings: TIMINGS })
  const [room] = (await stack.createRooms('friends')) as [RoomRow]
  const carol = await stack.user('carol')
  await carol.join('friends')
  return { stack, room, carol, dead: await deadInstance(t, stack, room) }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await delay(20)
  }
}

t.test('unannounced messages of a dead instance', async (t) => {
  if (!process.env.REDIS_URL || !process.env.DATABASE_URL) {
    t.pass('skipped: needs Redis and PostgreSQL (REDIS_URL, DATABASE_URL)')
    return
  }

  t.test('are removed by the survivor; announced ones stay', async (t) => {
    const { stack, room, carol, dead } = await carolBesideADeadInstance(t)
    const announced = await dead.store('announced before the crash')
    await dead.announce(announced)
    await carol.next((f) => f.type === 'room:notification' && f.code === 'message')
    const lost = await dead.store('stored, then the crash')

    dead.die()
    await carol.next(partedBy(GHOST.name), 10_000)
    await dead.reaped()
    const history = await dead.messages.page({ roomId: room.id, limit: 10 })
    t.same(
      history.map((m) => m.id),
      [announced.id],
      `what was announced stays, what was not (${lost.id}) is gone`,
    )
    const joined = await (await stack.user('dave')).join('friends')
    t.same(
      joined.status?.messages.map((m) => m.body),
      ['announced before the crash'],
      'a joiner sees the history everyone received',
    )
  })

  t.test('an instance that was only stalled, and announces after all, keeps it', async (t) => {
    const { room, carol, dead } = await carolBesideADeadInstance(t)
    const waitingForLock = async () => {
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted
      `.execute(dead.db)
      return (rows[0]?.n ?? 0) > 0
    }
    // Stalled between its insert and its announcement, holding the room's lock, as a chat
    // instance does: it is taken for dead, and the survivor waits for the lock.
    await dead.db.connection().execute(async (conn) => {
      const stored = await dead.storeHoldingLock('late but announced', conn)
      dead.die()
      await carol.next(partedBy(GHOST.name), 10_000)
      await until('the survivor waits for the room lock', waitingForLock)
      await dead.announce(stored)
      await dead.messages.unlockRooms([room.id], conn)
    })
    await dead.reaped()
    await carol.next(
      (f) =>
        f.type === 'room:notification' && f.code === 'message' && f.body === 'late but announced',
    )
    const history = await dead.messages.page({ roomId: room.id, limit: 10 })
    t.same(
      history.map((m) => m.body),
      ['late but announced'],
      'delivered, so kept',
    )
  })

  t.test(
    'an instance stalled until PostgreSQL ended its session: its message is removed, and announcing it later is refused',
    async (t) => {
      const { room, carol, dead } = await carolBesideADeadInstance(t)
      const events = createChatEvents({ bus: dead.bus, instanceId: 'doomed' })
      const stored = await dead.db.connection().execute(async (conn) => {
        const stored = await dead.storeHoldingLock('too late', conn)
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(conn)
        dead.die()
        await carol.next(partedBy(GHOST.name), 10_000)
        // What idle_session_timeout does to the session of a frozen process: its locks go.
        await sql`select pg_terminate_backend(${rows[0]?.pid})`.execute(dead.db)
        // The thawed instance's next statement is where it learns it (its connection is dropped).
        await t.rejects(sql`select 1`.execute(conn), /terminat|ECONNRESET|not queryable/)
        return stored
      })
      await until('the survivor removed it', async () => {
        return (await dead.messages.page({ roomId: room.id, limit: 10 })).length === 0
      })
      // Thawed, the instance announces what it stored: too late, the survivor closed the room.
      await t.rejects(events.message(room.name, stored), { name: 'FencedOffError' })
      const stream = await dead.bus.range<ChatEvent>(STREAMS.chatEvents, '0', 1000)
      const later = stream.filter(
        (entry) => entry.data.type === 'room.message' && entry.data.id === stored.id,
      )
      t.same(later, [], 'the stream never carried it')
      t.notOk(
        carol.frames.some((f) => f.type === 'room:notification' && f.code === 'message'),
        'and nobody received it',
      )
    },
  )
})
