import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import {
  type Bus,
  type BusEntry,
  type BusLogger,
  type BusSubscription,
  compareIds,
} from '../src/index.js'
import { createCollector, createTestLogger } from './collector.js'

export interface BusUnderTest {
  bus: Bus
  /** Removes what the bus left behind (e.g. Redis keys), after it is closed. */
  cleanup?: () => Promise<void>
}

export type BusFactory = (options: { maxLen?: number; logger: BusLogger }) => BusUnderTest

interface Item {
  n: number
  ack?: boolean
}

const values = (entries: BusEntry<Item>[]) => entries.map((entry) => entry.data.n)

/** The behaviour every Bus implementation must share; registers its tests on the root tap. */
export function runBusContract(create: BusFactory): void {
  function open(test: Test, options: { maxLen?: number } = {}) {
    const { logger, records } = createTestLogger()
    const { bus, cleanup } = create({ ...options, logger })
    test.teardown(async () => {
      await bus.close()
      await cleanup?.()
    })
    return { bus, records }
  }

  async function appendAll(bus: Bus, stream: string, items: Item[]): Promise<string[]> {
    const ids: string[] = []
    for (const item of items) ids.push(await bus.append(stream, item))
    return ids
  }

  const range = (from: number, to: number): Item[] =>
    Array.from({ length: to - from }, (_, i) => ({ n: from + i }))

  t.test('delivers appended entries in order, with their ids and JSON data', async (t) => {
    const { bus } = open(t)
    const collector = createCollector<{ n: number; at: string; tags: string[] }>()
    const subscription = bus.subscribe('events', collector.onBatch)
    await subscription.ready
    const ids: string[] = []
    for (let n = 0; n < 10; n++) {
      ids.push(await bus.append('events', { n, at: new Date(n).toISOString(), tags: ['a'] }))
    }
    const entries = await collector.waitFor(10)
    t.same(
      entries.map((entry) => entry.id),
      ids,
    )
    t.same(entries[3]?.data, { n: 3, at: new Date(3).toISOString(), tags: ['a'] })
    t.ok(
      ids.every((id, i) => i === 0 || compareIds(ids[i - 1] as string, id) < 0),
      'ids increase',
    )
    t.equal(subscription.position, ids.at(-1))
  })

  t.test(
    'an entry appended under a fence lands only above it; a raised fence refuses what is below',
    async (t) => {
      const { bus } = open(t)
      const collector = createCollector<{ n: number }>()
      const subscription = bus.subscribe('events', collector.onBatch)
      await subscription.ready
      const fenced = (key: string, n: number) => bus.append('events', { n }, { key, order: n })
      const refused = { name: 'FencedOffError' }
      t.type(await fenced('room-a', 10), 'string')
      await t.rejects(fenced('room-a', 9), refused, 'a lower order is refused')
      await t.rejects(fenced('room-a', 10), refused, 'and the same one')
      t.type(await fenced('room-b', 9), 'string', 'fences are apart')
      t.type(await bus.append('events', { n: 1 }), 'string', 'and unfenced appends pass')
      await bus.raiseFence('events', 'room-a', 20)
      await bus.raiseFence('events', 'room-a', 15)
      await t.rejects(fenced('room-a', 20), refused, 'raised, and not lowered again')
      t.type(await fenced('room-a', 21), 'string')
      t.same(values(await collector.waitFor(4)), [10, 9, 1, 21])
    },
  )

  t.test('fans out every entry to every subscriber', async (t) => {
    const { bus } = open(t)
    const first = createCollector<Item>()
    const second = createCollector<Item>()
    await bus.subscribe('events', first.onBatch).ready
    await bus.subscribe('events', second.onBatch).ready
    await appendAll(bus, 'events', range(0, 5))
    t.same(values(await first.waitFor(5)), [0, 1, 2, 3, 4])
    t.same(values(await second.waitFor(5)), [0, 1, 2, 3, 4])
  })

  t.test("'$' delivers only new entries; an explicit id resumes after it", async (t) => {
    const { bus } = open(t)
    const ids = await appendAll(bus, 'events', range(0, 3))
    const fresh = createCollector<Item>()
    const resumed = createCollector<Item>()
    const everything = createCollector<Item>()
    await bus.subscribe('events', fresh.onBatch).ready
    await bus.subscribe('events', resumed.onBatch, { after: ids[0] }).ready
    await bus.subscribe('events', everything.onBatch, { after: '0' }).ready
    await bus.append('events', { n: 3 })
    // Delivery is in order, so an unexpected earlier entry would show up before entry 3.
    t.same(values(await fresh.waitUntil((all) => all.at(-1)?.data.n === 3)), [3])
    t.same(values(await resumed.waitUntil((all) => all.at(-1)?.data.n === 3)), [1, 2, 3])
    t.same(values(await everything.waitUntil((all) => all.at(-1)?.data.n === 3)), [0, 1, 2, 3])
  })

  t.test('delivers in batches and awaits the handler before the next batch', async (t) => {
    const { bus } = open(t)
    await appendAll(bus, 'events', range(0, 20))
    let release = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    let running = 0
    let maxRunning = 0
    const collector = createCollector<Item>(async () => {
      running++
      maxRunning = Math.max(maxRunning, running)
      await gate
      running--
    })
    bus.subscribe('events', collector.onBatch, { after: '0' })
    await collector.waitFor(20)
    await appendAll(bus, 'events', range(20, 25))
    release()
    await collector.waitFor(25)
    t.same(
      collector.batches.map((batch) => batch.length),
      [20, 5],
    )
    t.same(
      values(collector.entries),
      range(0, 25).map((item) => item.n),
    )
    t.equal(maxRunning, 1, 'one batch at a time')
  })

  t.test('never runs a handler inside append()', async (t) => {
    const { bus } = open(t)
    let appending = false
    const collector = createCollector<Item>(() => {
      t.notOk(appending, 'handler runs after append() returned')
    })
    await bus.subscribe('events', collector.onBatch).ready
    appending = true
    const appended = bus.append('events', { n: 0 })
    appending = false
    await appended
    await collector.waitFor(1)
  })

  t.test('a throwing handler is logged and the subscription moves past the batch', async (t) => {
    const { bus, records } = open(t)
    const collector = createCollector<Item>((batch) => {
      if (batch.some((entry) => entry.data.n === 0)) throw new Error('boom')
    })
    await bus.subscribe('events', collector.onBatch).ready
    await bus.append('events', { n: 0 })
    await collector.waitFor(1)
    await bus.append('events', { n: 1 })
    t.same(values(await collector.waitFor(2)), [0, 1], 'not delivered twice')
    const failure = records.find((record) => record.level === 'error')
    t.match(failure, { msg: /handler failed/, obj: { err: { message: 'boom' } } })
  })

  t.test('consumers of a group share entries, each entry going to exactly one', async (t) => {
    const { bus } = open(t)
    const all = createCollector<Item>()
    const owners = new Map<string, string[]>()
    for (const consumer of ['c1', 'c2']) {
      owners.set(consumer, [])
      const subscription = bus.consume<Item>(
        'jobs',
        'workers',
        consumer,
        async (entries) => {
          owners.get(consumer)?.push(...entries.map((entry) => entry.id))
          await bus.ack(
            'jobs',
            'workers',
            entries.map((entry) => entry.id),
          )
          // A slow worker lets the other one take the next entry.
          await sleep(5)
          await all.onBatch(entries)
        },
        { count: 1 },
      )
      await subscription.ready
    }
    const ids = await appendAll(bus, 'jobs', range(0, 20))
    const entries = await all.waitFor(20)
    t.same(new Set(entries.map((entry) => entry.id)), new Set(ids))
    t.equal(entries.length, 20, 'no entry twice')
    t.ok(owners.get('c1')?.length, 'c1 got some')
    t.ok(owners.get('c2')?.length, 'c2 got some')
  })

  t.test('idle consumers of a group take turns, entry by entry', async (t) => {
    const { bus } = open(t)
    const all = createCollector<Item>()
    const owners: string[] = []
    for (const consumer of ['c1', 'c2']) {
      const subscription = bus.consume<Item>('turns', 'workers', consumer, async (entries) => {
        owners.push(...entries.map(() => consumer))
        await all.onBatch(entries)
      })
      await subscription.ready
    }
    // Each entry appended once the previous one was delivered: both consumers wait each time.
    for (let i = 0; i < 6; i++) {
      await bus.append('turns', { n: i })
      await all.waitFor(i + 1)
      // Until both loops are back to waiting for the stream.
      await sleep(20)
    }
    t.ok(owners.includes('c1') && owners.includes('c2'), `both took entries: ${owners.join(' ')}`)
  })

  t.test("a new group with start '0' gets the stream's existing entries", async (t) => {
    const { bus } = open(t)
    await appendAll(bus, 'jobs', range(0, 3))
    const collector = createCollector<Item>()
    bus.consume('jobs', 'workers', 'c1', collector.onBatch, { start: '0' })
    t.same(values(await collector.waitFor(3)), [0, 1, 2])
  })

  t.test('a restarted consumer first gets its unacked entries again', async (t) => {
    const { bus } = open(t)
    const ack = (entries: BusEntry<Item>[]) =>
      bus.ack(
        'jobs',
        'workers',
        entries.filter((entry) => entry.data.ack).map((entry) => entry.id),
      )
    const first = createCollector<Item>(ack)
    const before = bus.consume('jobs', 'workers', 'c1', first.onBatch)
    await before.ready
    await appendAll(bus, 'jobs', [{ n: 0, ack: true }, { n: 1 }, { n: 2 }])
    await first.waitFor(3)
    await before.close()

    const second = createCollector<Item>(ack)
    const after = bus.consume('jobs', 'workers', 'c1', second.onBatch)
    await after.ready
    t.same(values(await second.waitFor(2)), [1, 2], 'pending entries come back, acked ones do not')
    await bus.append('jobs', { n: 3 })
    t.same(values(await second.waitFor(3)), [1, 2, 3])
  })

  t.test('entries a dead consumer left pending are claimed once idle', async (t) => {
    const { bus } = open(t)
    const dead = createCollector<Item>()
    const deadSubscription = bus.consume('jobs', 'workers', 'dead', dead.onBatch)
    await deadSubscription.ready
    const ids = await appendAll(bus, 'jobs', range(0, 2))
    await dead.waitFor(2)
    const deliveredAt = Date.now()
    await deadSubscription.close()

    const alive = createCollector<Item>()
    bus.consume('jobs', 'workers', 'alive', alive.onBatch, { claimIdleMs: 300 })
    const claimed = await alive.waitFor(2)
    t.same(
      claimed.map((entry) => entry.id),
      ids,
    )
    // A little slack: Redis measures idle time on its own clock.
    t.ok(Date.now() - deliveredAt >= 250, 'not claimed before claimIdleMs')
  })

  t.test('entries whose handler threw stay pending and are delivered again', async (t) => {
    const { bus, records } = open(t)
    let attempts = 0
    const collector = createCollector<Item>(async (entries) => {
      if (++attempts === 1) throw new Error('transient')
      await bus.ack(
        'jobs',
        'workers',
        entries.map((entry) => entry.id),
      )
    })
    await bus.consume('jobs', 'workers', 'c1', collector.onBatch, { claimIdleMs: 100 }).ready
    const [id] = await appendAll(bus, 'jobs', [{ n: 0 }])
    const entries = await collector.waitFor(2)
    t.same(
      entries.map((entry) => entry.id),
      [id, id],
    )
    t.ok(records.some((record) => record.level === 'error'))
    await bus.append('jobs', { n: 1 })
    await collector.waitFor(3)
    await sleep(300)
    t.same(values(collector.entries), [0, 0, 1], 'acked entries are not claimed again')
  })

  t.test('trims a stream to about maxLen entries', async (t) => {
    const { bus } = open(t, { maxLen: 10 })
    await appendAll(bus, 'events', range(0, 300))
    const collector = createCollector<Item>()
    bus.subscribe('events', collector.onBatch, { after: '0' })
    const entries = await collector.waitUntil((all) => all.at(-1)?.data.n === 299)
    t.ok(entries.length < 300, `trimmed (${entries.length} kept)`)
    t.ok(entries.length >= 10, 'keeps at least maxLen')
    t.same(
      values(entries),
      range(300 - entries.length, 300).map((item) => item.n),
    )
  })

  t.test('close() stops idle loops at once and delivers nothing after', async (t) => {
    const { bus } = open(t)
    const collector = createCollector<Item>()
    const subscription = bus.subscribe('events', collector.onBatch)
    const consumer = bus.consume('jobs', 'workers', 'c1', collector.onBatch)
    await Promise.all([subscription.ready, consumer.ready])
    const started = Date.now()
    await Promise.all([subscription.close(), consumer.close()])
    t.ok(Date.now() - started < 1000, `closed in ${Date.now() - started}ms`)
    await bus.append('events', { n: 0 })
    await bus.append('jobs', { n: 0 })
    await sleep(100)
    t.same(collector.entries, [])
    t.equal(await bus.ping(), true)
    await bus.close()
    t.ok(Date.now() - started < 2000, 'bus closed promptly')
    t.equal(await bus.ping(), false)
    await t.rejects(bus.append('events', { n: 1 }))
  })

  t.test('a handler may close its own subscription', async (t) => {
    const { bus } = open(t)
    const collector = createCollector<Item>(async () => {
      await subscription.close()
    })
    const subscription: BusSubscription = bus.subscribe('events', collector.onBatch)
    await subscription.ready
    await bus.append('events', { n: 0 })
    await collector.waitFor(1)
    await bus.append('events', { n: 1 })
    await sleep(100)
    t.same(values(collector.entries), [0])
  })

  t.test('range looks back at what the stream holds, page by page', async (t) => {
    const { bus } = open(t)
    t.same(await bus.range('events', '0', 10), [], 'a stream never written is empty')
    const ids = await appendAll(bus, 'events', range(0, 5))
    const first = await bus.range<Item>('events', '0', 3)
    t.same(values(first), [0, 1, 2])
    t.same(
      first.map((entry) => entry.id),
      ids.slice(0, 3),
    )
    const rest = await bus.range<Item>('events', first.at(-1)?.id as string, 10)
    t.same(values(rest), [3, 4], 'strictly after the given id')
    t.same(await bus.range('events', ids.at(-1) as string, 10), [], 'nothing after the last')
    await t.rejects(bus.range('events', 'latest', 1), TypeError)
  })

  t.test('rejects what it could not store or read back', async (t) => {
    const { bus } = open(t)
    await t.rejects(bus.append('events', undefined), TypeError)
    t.throws(() => bus.subscribe('events', () => {}, { after: 'latest' }), TypeError)
  })
}
