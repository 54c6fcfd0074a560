import { randomBytes } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import type { Orphan, Presence } from '../../src/presence/presence.js'
import { createRedisPresence } from '../../src/presence/redis-presence.js'

const redisUrl = process.env.REDIS_URL
const FAST = { heartbeatMs: 50, deadAfterMs: 200 }
/**
 * Beats as often, but a silent instance counts as dead only after 10 s: a claim taken well
 * before that was not freed by a reaper, however loaded the machine running the test is.
 */
const SLOW_REAPER = { heartbeatMs: 50, deadAfterMs: 10_000 }

type Handlers = Parameters<Presence['start']>[0]
const idle: Handlers = {
  onOrphans: async () => {},
  onEvicted: () => {},
  onRecordsLost: async () => {},
}

/** Presences on one Redis under a key prefix of their own, each with its own connection. */
function cluster(t: Test) {
  const prefix = `test:presence:${randomBytes(4).toString('hex')}:`
  const inspector = new Redis(redisUrl as string)
  const connections: Redis[] = [inspector]
  const started: Presence[] = []
  t.teardown(async () => {
    await Promise.all(started.map((presence) => presence.stop().catch(() => {})))
    const keys = await inspector.keys(`${prefix}*`)
    if (keys.length > 0) await inspector.del(...keys)
    for (const connection of connections) connection.disconnect()
  })
  return {
    prefix,
    inspector,
    /** A presence; `kill()` cuts its Redis connection, so that it falls silent without a goodbye. */
    instance(instanceId: string, timings = FAST) {
      const redis = new Redis(redisUrl as string, { maxRetriesPerRequest: 0 })
      redis.on('error', () => {})
      connections.push(redis)
      const presence = createRedisPresence({ redis, instanceId, prefix, ...timings })
      return {
        presence,
        async start(handlers: Handlers = idle) {
          await presence.start(handlers)
          started.push(presence)
        },
        kill() {
          redis.disconnect()
        },
      }
    },
    /** Polls Redis (state outside this test's control) until `check` holds. */
    async until(what: string, check: () => Promise<boolean>, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
        await delay(10)
      }
    },
    /** Resolves once each given instance has completed a whole heartbeat started after now. */
    async beatsAfterNow(...ids: string[]) {
      const score = async (id: string) =>
        Number(await inspector.zscore(`${prefix}chat:instances`, id))
      const since = Date.now()
      await Promise.all(
        ids.map(async (id) => {
          // A beat started after now; the next one starts only once that one is done.
          await this.until(`${id} beats`, async () => (await score(id)) > since)
          const first = await score(id)
          await this.until(`${id} beats again`, async () => (await score(id)) > first)
        }),
      )
    },
  }
}

const byRoomAndUser = (orphans: Orphan[]) =>
  [...orphans].sort((x, y) =>
    x.room === y.room ? (x.user < y.user ? -1 : 1) : x.room < y.room ? -1 : 1,
  )

t.test('redis presence', async (t) => {
  if (!redisUrl) {
    t.pass('skipped: needs Redis (REDIS_URL)')
    return
  }

  t.test('one holder per user, released only by its holder', async (t) => {
    const c = cluster(t)
    const a = c.instance('a')
    const b = c.instance('b')
    await a.start()
    await b.start()
    t.equal(a.presence.instanceId, 'a')
    t.equal(await a.presence.claimUser(1), true, 'a free user is claimed')
    t.equal(await a.presence.claimUser(1), false, 'not twice by the same instance')
    t.equal(await b.presence.claimUser(1), false, 'nor by another live instance')
    t.equal(await b.presence.claimUser(2), true, 'other users are independent')

    await b.presence.releaseUser(1)
    t.equal(await b.presence.claimUser(1), false, 'a release by another instance frees nothing')
    await a.presence.releaseUser(1)
    t.equal(await b.presence.claimUser(1), true, 'the holder releases the user')
    t.equal(await a.presence.claimUser(1), false)
    t.equal(await a.presence.ping(), true)
  })

  t.test('a claim left by no running instance is taken over at once', async (t) => {
    const c = cluster(t)
    const b = c.instance('b', SLOW_REAPER)
    await b.start()
    await c.inspector.set(`${c.prefix}chat:user:7`, 'gone-long-ago')
    const started = Date.now()
    t.equal(await b.presence.claimUser(7), true)
    t.ok(Date.now() - started < SLOW_REAPER.deadAfterMs / 2, 'without waiting for a reaper')
  })

  t.test('room members: cluster-wide, sorted by code point', async (t) => {
    const c = cluster(t)
    const a = c.instance('a').presence
    const b = c.instance('b').presence
    for (const [presence, user] of [
      [a, 'zoe'],
      [b, 'Bob'],
      [a, 'Älva'],
      [b, '_x'],
      [a, 'alice'],
      [a, '😀'],
    ] as const) {
      await presence.join('friends', user)
    }
    await a.join('family', 'bob')
    const expected = ['Bob', '_x', 'alice', 'zoe', 'Älva', '😀']
    t.same(await a.members('friends'), expected, 'code-point order')
    t.same(await b.members('friends'), expected, 'the same from every instance')

    await a.part('friends', 'zoe')
    t.same(await b.members('friends'), ['Bob', '_x', 'alice', 'Älva', '😀'])
    t.same(await b.members('nowhere'), [])
    await b.forgetRoom('friends')
    t.same(await a.members('friends'), [])
    t.same(await b.members('family'), ['bob'], 'other rooms are untouched')
  })

  t.test('a graceful stop releases the instance claims', async (t) => {
    const c = cluster(t)
    const a = c.instance('a', SLOW_REAPER)
    const b = c.instance('b', SLOW_REAPER)
    await a.start()
    await b.start()
    await a.presence.claimUser(1)
    await b.presence.claimUser(2)
    await a.presence.stop()
    const started = Date.now()
    t.equal(await b.presence.claimUser(1), true, 'freed by the stop')
    t.ok(Date.now() - started < SLOW_REAPER.deadAfterMs / 2, 'at once, not by a reaper')
    t.equal(await c.inspector.zscore(`${c.prefix}chat:instances`, 'a'), null, 'a is unlisted')
    t.same(await c.inspector.keys(`${c.prefix}chat:instance:a:*`), [], 'a left no records')
  })

  t.test('a user reconnecting at once after their instance died is let in', async (t) => {
    const c = cluster(t)
    const a = c.instance('a')
    const reaper = c.instance('reaper')
    await reaper.start()
    await a.start()
    await a.presence.claimUser(1)
    // The instance the user reconnects to; its patience (the dead interval it is configured
    // with) is generous, so that only the outcome is tested, not the speed of a loaded machine.
    const b = c.instance('b', { heartbeatMs: FAST.heartbeatMs, deadAfterMs: 5000 })
    a.kill()
    // Right after the death, while a's last heartbeat is still recent.
    const started = Date.now()
    t.equal(await b.presence.claimUser(1), true, 'claimed once a was reaped')
    t.comment(`claimed ${Date.now() - started} ms after the death`)
  })

  t.test('a dead instance is reaped exactly once, however many survivors race', async (t) => {
    const c = cluster(t)
    const calls: { by: string; orphans: Orphan[] }[] = []
    let onCall = () => {}
    const survivors = ['b', 'c', 'd'].map((id) => c.instance(id))
    await Promise.all(
      survivors.map((survivor) =>
        survivor.start({
          onOrphans: async (orphans) => {
            calls.push({ by: survivor.presence.instanceId, orphans })
            onCall()
          },
          onEvicted: () => {},
          onRecordsLost: async () => {
            t.fail('no records were lost')
          },
        }),
      ),
    )
    const [b] = survivors.map((s) => s.presence) as [Presence]
    await b.claimUser(3)
    await b.join('r1', 'u3')

    for (const round of [1, 2, 3]) {
      calls.length = 0
      const reaped = new Promise<void>((resolve) => {
        onCall = resolve
      })
      const dead = c.instance(`dead-${round}`)
      await dead.start()
      await dead.presence.claimUser(1)
      await dead.presence.claimUser(2)
      await dead.presence.join('r1', 'u1')
      await dead.presence.join('r2', 'u1')
      await dead.presence.join('r1', 'u2')
      dead.kill()

      await reaped
      await c.beatsAfterNow('b', 'c', 'd')
      t.equal(calls.length, 1, `round ${round}: one survivor announced the partings`)
      t.same(
        byRoomAndUser(calls.flatMap((call) => call.orphans)),
        [
          { room: 'r1', user: 'u1' },
          { room: 'r1', user: 'u2' },
          { room: 'r2', user: 'u1' },
        ],
        `round ${round}: every membership of the dead instance, once`,
      )
      t.same(await b.members('r1'), ['u3'], 'the dead members are gone, the live one stays')
      t.same(await b.members('r2'), [])
      t.equal(await b.claimUser(1), true, 'the dead instance users are free')
      t.equal(await b.claimUser(2), true)
      t.equal(await b.claimUser(3), false, 'the survivor users are not')
      await b.releaseUser(1)
      await b.releaseUser(2)
      t.same(await c.inspector.keys(`${c.prefix}chat:instance:dead-${round}:*`), [])
    }
  })

  t.test('an instance restarted under the same id lets go of its previous life', async (t) => {
    // INSTANCE_ID is fixed per deployment slot (chat-2, or hostname-pid in a container that
    // restarts as pid 1): the new process must not inherit claims it has no connection for.
    const c = cluster(t)
    const before = c.instance('chat-2')
    await before.start()
    await before.presence.claimUser(1)
    await before.presence.join('r1', 'u1')
    before.kill()

    const orphans: Orphan[] = []
    const after = c.instance('chat-2')
    await after.start({
      onOrphans: async (list) => {
        orphans.push(...list)
      },
      onEvicted: () => t.fail('a fresh start is no eviction'),
      onRecordsLost: async () => {
        t.fail('no records were lost')
      },
    })
    t.same(orphans, [{ room: 'r1', user: 'u1' }], 'the old memberships are announced as parted')
    t.same(await after.presence.members('r1'), [], 'no ghost in the room')
    t.equal(await after.presence.claimUser(1), true, 'the user may connect again')
  })

  t.test('an instance that dies again is reaped again', async (t) => {
    const c = cluster(t)
    const reaped: Orphan[][] = []
    let onReaped = () => {}
    await c.instance('survivor').start({
      onOrphans: async (orphans) => {
        reaped.push(orphans)
        onReaped()
      },
      onEvicted: () => {},
      onRecordsLost: async () => {
        t.fail('no records were lost')
      },
    })
    for (const life of [1, 2]) {
      const done = new Promise<void>((resolve) => {
        onReaped = resolve
      })
      const crashing = c.instance('crashing')
      await crashing.start()
      await crashing.presence.claimUser(life)
      await crashing.presence.join('r1', `u${life}`)
      crashing.kill()
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        done,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`life ${life} not reaped within 5 s`)), 5000)
        }),
      ]).finally(() => clearTimeout(timer))
      t.same(reaped.at(-1), [{ room: 'r1', user: `u${life}` }], `life ${life} reaped`)
    }
  })

  t.test('the partings of a dead instance come before its users are free', async (t) => {
    const c = cluster(t)
    const dead = c.instance('dead')
    await dead.start()
    await dead.presence.claimUser(1)
    await dead.presence.join('r1', 'u1')
    // Not started: it only claims, as a chat instance does when a client connects.
    const other = c.instance('other').presence
    const survivor = c.instance('survivor')
    const duringAnnouncement: boolean[] = []
    let announced!: () => void
    const done = new Promise<void>((resolve) => {
      announced = resolve
    })
    await survivor.start({
      onOrphans: async () => {
        // A reconnect racing the announcement: it may not win before the partings are out.
        duringAnnouncement.push(await other.claimUser(1))
        announced()
      },
      onEvicted: () => {},
      onRecordsLost: async () => {
        t.fail('no records were lost')
      },
    })
    dead.kill()
    await done
    t.same(duringAnnouncement, [false], 'the user is still held while partings are announced')
    t.equal(await other.claimUser(1), true, 'and free afterwards')
  })

  t.test('an instance declared dead is evicted', async (t) => {
    const c = cluster(t)
    // `slow` beats more rarely than the others' dead interval: to them it looks dead.
    const slow = c.instance('slow', { heartbeatMs: 400, deadAfterMs: 800 })
    const fast = c.instance('fast')
    let evicted!: () => void
    const eviction = new Promise<void>((resolve) => {
      evicted = resolve
    })
    await slow.start({ ...idle, onEvicted: () => evicted() })
    await slow.presence.claimUser(1)
    await slow.presence.join('r1', 'u1')
    const orphans: Orphan[] = []
    await fast.start({
      onOrphans: async (list) => {
        orphans.push(...list)
      },
      onEvicted: () => t.fail('the fast instance is alive'),
      onRecordsLost: async () => {
        t.fail('no records were lost')
      },
    })
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      eviction,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('not evicted within 5 s')), 5000)
      }),
    ]).finally(() => clearTimeout(timer))
    t.same(orphans, [{ room: 'r1', user: 'u1' }], 'its members were announced as parted')
    t.equal(await fast.presence.claimUser(1), true, 'its users were released')
  })
  t.test('records lost with Redis data are registered again, without evicting', async (t) => {
    const c = cluster(t)
    const a = c.instance('a')
    const b = c.instance('b')
    let restored!: () => void
    const restoring = new Promise<void>((resolve) => {
      restored = resolve
    })
    const claims: boolean[] = []
    await a.start({
      ...idle,
      onEvicted: () => t.fail('nobody reaped a: no eviction'),
      // What a chat instance does: its connections' claims and memberships go back.
      onRecordsLost: async () => {
        claims.push(await a.presence.restoreUser(1), await a.presence.restoreUser(2))
        await a.presence.join('r1', 'u1')
        restored()
      },
    })
    await b.start({ ...idle, onEvicted: () => t.fail('nobody reaped b: no eviction') })
    await a.presence.claimUser(1)
    await a.presence.claimUser(2)
    await a.presence.join('r1', 'u1')

    // Redis comes back empty; meanwhile user 2 connected to b.
    const keys = await c.inspector.keys(`${c.prefix}*`)
    await c.inspector.del(...keys)
    t.equal(
      await b.presence.claimUser(2),
      true,
      'a user whose claim vanished may connect elsewhere',
    )
    await restoring
    t.same(claims, [true, false], "a's user is a's again; the one now on b stays b's")
    t.same(await b.presence.members('r1'), ['u1'], 'memberships are back')
    await c.beatsAfterNow('a', 'b')
    t.equal(await b.presence.claimUser(1), false, 'a holds its user again')
  })
})

t.test('records of a connection that ended while Redis was away are let go', async (t) => {
  if (!redisUrl) {
    t.pass('skipped: needs Redis (REDIS_URL)')
    return
  }
  const c = cluster(t)
  const x = c.instance('chat-x')
  let held = {
    userIds: [1, 2],
    members: [
      { room: 'r1', user: 'u1' },
      { room: 'r1', user: 'u2' },
    ],
  }
  const ghosts: Orphan[] = []
  let announced = () => {}
  const ghostsAnnounced = new Promise<void>((resolve) => {
    announced = resolve
  })
  await x.start({
    ...idle,
    held: () => held,
    onGhosts: async (list) => {
      ghosts.push(...list)
      announced()
    },
  })
  await x.presence.claimUser(1)
  await x.presence.join('r1', 'u1')
  await x.presence.claimUser(2)
  await x.presence.join('r1', 'u2')

  // u1's connection ended, but its parting and release never reached Redis: the instance holds
  // only u2 now. Its periodic check (or the checks after a failure) finds the difference.
  held = { userIds: [2], members: [{ room: 'r1', user: 'u2' }] }
  await ghostsAnnounced
  t.same(ghosts, [{ room: 'r1', user: 'u1' }], "u1's parting is announced")
  t.same(await x.presence.members('r1'), ['u2'], 'no ghost in the room, u2 stays')
  await c.until(
    "u1's claim is released",
    async () => (await c.inspector.get(`${c.prefix}chat:user:1`)) === null,
  )
  const y = c.instance('chat-y')
  await y.start()
  t.equal(await y.presence.claimUser(1), true, 'u1 may connect again, anywhere')
  t.equal(await y.presence.claimUser(2), false, 'u2 still has its connection')
})
