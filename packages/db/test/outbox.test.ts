import type { Kysely } from 'kysely'
import t, { type Test } from 'tap'
import {
  createDatabase,
  createOutboxRelay,
  createOutboxTable,
  migrateToLatest,
  type OutboxDatabase,
  writeToOutbox,
} from '../src/index.js'

// A service writes an announcement with its change and a relay carries it out: what rolled back
// is never announced, what committed is, in order, however long the store stays away.

interface Topics {
  said: { text: string }
}

const quiet = { warn() {} }

async function outboxDb(t: Test) {
  // PGlite in memory: the outbox is plain SQL, the same on both.
  const database = await createDatabase({})
  t.teardown(() => database.close())
  await migrateToLatest(database.db, 'svc', {
    '0001-outbox': { up: (db: Kysely<any>) => createOutboxTable(db, 'svc') },
  })
  return database.db.withSchema('svc') as unknown as Kysely<OutboxDatabase>
}

const say = (db: Kysely<OutboxDatabase>, text: string) =>
  writeToOutbox<Topics, 'said'>(db, 'said', { text })

t.test('what commits is delivered in order; what rolls back never is', async (t) => {
  const db = await outboxDb(t)
  const delivered: string[] = []
  const relay = createOutboxRelay<Topics>({
    db,
    log: quiet,
    deliver: async (_topic, { text }) => {
      delivered.push(text)
    },
  })
  await db.transaction().execute((trx) => say(trx, 'one'))
  await db
    .transaction()
    .execute(async (trx) => {
      await say(trx, 'rolled back')
      throw new Error('the change failed')
    })
    .catch(() => {})
  await say(db, 'two')
  t.equal(await relay.flush(), true, 'nothing left')
  t.same(delivered, ['one', 'two'])
  t.equal(await relay.flush(), true)
  t.same(delivered, ['one', 'two'], 'delivered once each')
})

t.test(
  'a store that is away holds the rest back, and the relay retries until it is back',
  async (t) => {
    const db = await outboxDb(t)
    const delivered: string[] = []
    let storeUp = false
    let backAgain: () => void = () => {}
    const allDelivered = new Promise<void>((resolve) => {
      backAgain = resolve
    })
    const relay = createOutboxRelay<Topics>({
      db,
      log: quiet,
      pollMs: 20,
      deliver: async (_topic, { text }) => {
        if (!storeUp) throw new Error('store down')
        delivered.push(text)
        if (delivered.length === 3) backAgain()
      },
    })
    t.teardown(() => relay.stop())
    for (const text of ['a', 'b', 'c']) await say(db, text)
    t.equal(await relay.flush(), false, 'not delivered')
    relay.start()
    storeUp = true
    await allDelivered
    t.same(delivered, ['a', 'b', 'c'], 'all of them, in the order written')
  },
)

t.test('a delivery that never settles counts as failed and is tried again', async (t) => {
  const db = await outboxDb(t)
  let attempts = 0
  const relay = createOutboxRelay<Topics>({
    db,
    log: quiet,
    deliveryTimeoutMs: 50,
    deliver: async () => {
      attempts++
      if (attempts === 1) await new Promise(() => {})
    },
  })
  await say(db, 'x')
  t.equal(await relay.flush(), false, 'the hung delivery timed out')
  t.equal(await relay.flush(), true, 'the next attempt went through')
  t.equal(attempts, 2)
})

t.test('a flush covers what was written before it, even with a relay under way', async (t) => {
  const db = await outboxDb(t)
  const delivered: string[] = []
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  let started: () => void = () => {}
  const delivering = new Promise<void>((resolve) => {
    started = resolve
  })
  const relay = createOutboxRelay<Topics>({
    db,
    log: quiet,
    deliver: async (_topic, { text }) => {
      if (text === 'first') {
        started()
        await gate
      }
      delivered.push(text)
    },
  })
  await say(db, 'first')
  const first = relay.flush()
  // The relay under way has read the table already: a change committed now needs one more pass.
  await delivering
  await say(db, 'second')
  const second = relay.flush()
  release()
  t.equal(await first, true)
  t.equal(await second, true)
  t.same(delivered, ['first', 'second'])
})
