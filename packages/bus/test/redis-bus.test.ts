import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { Redis } from 'ioredis'
import t from 'tap'
import { createRedisBus } from '../src/index.js'
import { runBusContract } from './bus-contract.js'
import { createCollector, createTestLogger } from './collector.js'

const url = process.env.REDIS_URL

async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl)
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    if (keys.length > 0) await redis.del(...keys)
    cursor = next
  } while (cursor !== '0')
  await redis.quit()
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  if (!address || typeof address === 'string') throw new Error('no port')
  return address.port
}

async function startRedis(port: number): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'ignore'] })
  let output = ''
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk
      if (output.includes('Ready to accept connections')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)))
  })
  return child
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  await exited
}

if (!url) {
  t.pass('skipped: set REDIS_URL to run the Redis bus tests')
} else {
  runBusContract((options) => {
    const prefix = `test:bus:${randomUUID()}:`
    return {
      bus: createRedisBus({ url, prefix, ...options }),
      cleanup: () => deleteKeys(url, prefix),
    }
  })

  t.test('a subscriber reads a recreated stream from its start', async (t) => {
    const prefix = `test:bus:${randomUUID()}:`
    const { logger, records } = createTestLogger()
    const bus = createRedisBus({ url, prefix, blockMs: 200, logger })
    const redis = new Redis(url)
    t.teardown(async () => {
      await bus.close()
      await redis.quit()
      await deleteKeys(url, prefix)
    })
    const collector = createCollector<string>()
    await bus.subscribe('events', collector.onBatch).ready
    await bus.append('events', 'before')
    await collector.waitFor(1)
    // What a Redis restart without persistence amounts to, with ids below the subscriber's position.
    await redis.del(`${prefix}events`)
    await redis.xadd(`${prefix}events`, '1-1', 'data', JSON.stringify('after'))
    const entries = await collector.waitFor(2)
    t.same(
      entries.map((entry) => entry.data),
      ['before', 'after'],
    )
    t.ok(records.some((record) => record.level === 'warn' && /recreated/.test(record.msg)))
  })

  t.test('a busy stream is gathered between reads; a quiet one is not held back', async (t) => {
    const prefix = `test:bus:${randomUUID()}:`
    const bus = createRedisBus({ url, prefix })
    const redis = new Redis(url)
    t.teardown(async () => {
      await bus.close()
      await redis.quit()
      await deleteKeys(url, prefix)
    })
    const busy = createCollector<string>()
    const quiet = createCollector<string>()
    await bus.subscribe('events', busy.onBatch, { linger: { entries: 2, ms: 300 } }).ready
    await bus.subscribe('events', quiet.onBatch, { linger: { entries: 10, ms: 300 } }).ready
    // Two entries in one round trip: each subscriber's first read has them both.
    await redis
      .multi()
      .xadd(`${prefix}events`, '*', 'data', '"a"')
      .xadd(`${prefix}events`, '*', 'data', '"b"')
      .exec()
    await Promise.all([busy.waitFor(2), quiet.waitFor(2)])
    for (const [i, body] of ['c', 'd', 'e'].entries()) {
      await bus.append('events', body)
      await quiet.waitFor(3 + i)
    }
    await busy.waitFor(5)
    t.same(
      busy.batches.map((batch) => batch.map((entry) => entry.data)),
      [
        ['a', 'b'],
        ['c', 'd', 'e'],
      ],
      'after a read of two, what came meanwhile arrives together',
    )
    t.same(
      quiet.batches.map((batch) => batch.map((entry) => entry.data)),
      [['a', 'b'], ['c'], ['d'], ['e']],
      'below the threshold, each entry is read as it comes',
    )
  })

  t.test('entries the bus cannot read are skipped, and acked for a group', async (t) => {
    const prefix = `test:bus:${randomUUID()}:`
    const { logger, records } = createTestLogger()
    const bus = createRedisBus({ url, prefix, logger })
    const redis = new Redis(url)
    t.teardown(async () => {
      await bus.close()
      await redis.quit()
      await deleteKeys(url, prefix)
    })
    const subscriber = createCollector<string>()
    const consumer = createCollector<string>()
    await bus.subscribe('events', subscriber.onBatch).ready
    const consuming = bus.consume<string>('events', 'workers', 'c1', async (entries) => {
      await bus.ack(
        'events',
        'workers',
        entries.map((entry) => entry.id),
      )
      await consumer.onBatch(entries)
    })
    await consuming.ready
    await redis.xadd(`${prefix}events`, '*', 'other', 'field')
    await redis.xadd(`${prefix}events`, '*', 'data', '{not json')
    await bus.append('events', 'good')
    t.same(
      (await subscriber.waitFor(1)).map((entry) => entry.data),
      ['good'],
    )
    t.same(
      (await consumer.waitFor(1)).map((entry) => entry.data),
      ['good'],
    )
    t.equal(records.filter((record) => record.level === 'error').length, 4, 'each logged')
    const [pendingCount] = (await redis.xpending(`${prefix}events`, 'workers')) as [number]
    t.equal(pendingCount, 0, 'nothing left pending')
  })

  t.test('loops survive a Redis restart and resume without loss or repeats', async (t) => {
    const port = await freePort()
    let server = await startRedis(port)
    t.teardown(() => kill(server))
    const { logger, records } = createTestLogger()
    const bus = createRedisBus({ url: `redis://127.0.0.1:${port}`, blockMs: 500, logger })
    t.teardown(() => bus.close())
    const subscriber = createCollector<number>()
    const consumer = createCollector<number>((entries) =>
      bus.ack(
        'jobs',
        'bots',
        entries.map((entry) => entry.id),
      ),
    )
    await bus.subscribe('events', subscriber.onBatch).ready
    await bus.consume('jobs', 'bots', 'b1', consumer.onBatch).ready
    for (const n of [1, 2]) {
      await bus.append('events', n)
      await bus.append('jobs', n)
    }
    await subscriber.waitFor(2)
    await consumer.waitFor(2)

    await kill(server)
    server = await startRedis(port)
    for (const n of [3, 4, 5]) {
      await bus.append('events', n)
      await bus.append('jobs', n)
    }
    await subscriber.waitFor(5)
    await consumer.waitFor(5)
    // Delivery is in order: a repeated entry would show up before this last one.
    await bus.append('events', 6)
    await bus.append('jobs', 6)
    const done = (all: { data: number }[]) => all.at(-1)?.data === 6
    const data = (all: { data: number }[]) => all.map((entry) => entry.data)
    t.same(data(await subscriber.waitUntil(done)), [1, 2, 3, 4, 5, 6])
    t.same(data(await consumer.waitUntil(done)), [1, 2, 3, 4, 5, 6])
    t.equal(await bus.ping(), true)
    t.ok(
      records.some((record) => record.level === 'warn'),
      'the outage was logged',
    )
  })
}
