import { setTimeout } from 'node:timers/promises'
import type { Redis } from 'ioredis'
import type { Presence, PresenceHandlers } from './presence.js'
import { sortByCodePoint } from './presence.js'

export interface RedisPresenceOptions {
  redis: Redis
  instanceId: string
  prefix?: string
  /** How often this instance says it is alive. */
  heartbeatMs?: number
  /** Silence after which an instance is dead and its users are released. */
  deadAfterMs?: number
  logger?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void }
}

// Deletes the user's claim only when it still belongs to the given instance.
const RELEASE_IF_OWNER = `if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1]) end return 0`

/** Where presence lives in Redis, under the deployment's prefix. */
const presenceKeys = (prefix: string) => ({
  user: (userId: number) => `${prefix}chat:user:${userId}`,
  room: (room: string) => `${prefix}chat:room:${room}`,
  instanceUsers: (id: string) => `${prefix}chat:instance:${id}:users`,
  instanceMembers: (id: string) => `${prefix}chat:instance:${id}:members`,
  instances: `${prefix}chat:instances`,
  reaped: (id: string) => `${prefix}chat:reaped:${id}`,
  reapLock: (id: string) => `${prefix}chat:reap:${id}`,
})

/**
 * The rooms' side of Redis presence, for a process that is not a chat instance (the admin
 * CLI): a deleted room's members are forgotten where every instance reads them.
 */
export function createRoomPresence(redis: Redis, prefix = ''): Pick<Presence, 'forgetRoom'> {
  const keys = presenceKeys(prefix)
  return {
    async forgetRoom(room) {
      await redis.del(keys.room(room))
    },
  }
}

/**
 * Presence in Redis:
 * - `chat:user:<id>` names the instance holding the user's connection (SET NX: one per user);
 * - `chat:room:<name>` is the set of the room's members, cluster-wide;
 * - `chat:instance:<id>:users` / `:members` record what each instance holds;
 * - `chat:instances` scores each instance by its last heartbeat (ms);
 * - `chat:reaped:<id>` is left by the survivor that reaped an instance, for a while, so that
 *   the instance, should it beat again, can tell "declared dead" from "Redis lost its data".
 * A silent instance is reaped by whichever survivor takes its reap lock first.
 */
export function createRedisPresence(options: RedisPresenceOptions): Presence {
  const { redis, instanceId } = options
  const prefix = options.prefix ?? ''
  const heartbeatMs = options.heartbeatMs ?? 1000
  const deadAfterMs = options.deadAfterMs ?? 5000
  const keys = presenceKeys(prefix)
  const memberEntry = (room: string, user: string) => JSON.stringify([room, user])

  /**
   * Beats left during which this instance's records are checked against its connections
   * (`reconcile`): set when Redis failed, since a release or a parting may have been lost.
   */
  let checksLeft = 0
  const CHECKS_AFTER_FAILURE = 10
  /** Also every this many beats, whatever happened: a failure may have gone unseen. */
  const CHECK_EVERY_BEATS = 30
  let beats = 0
  /** Noted when a write of presence fails: what it should have changed is checked later. */
  const noteFailure = <T>(write: Promise<T>): Promise<T> =>
    write.catch((error) => {
      checksLeft = CHECKS_AFTER_FAILURE
      throw error
    })

  /** Adds the member to (or removes it from) the room and this instance's record, together. */
  const membership =
    (change: 'sadd' | 'srem') =>
    async (room: string, user: string): Promise<void> => {
      const multi = redis.multi()
      multi[change](keys.room(room), user)
      multi[change](keys.instanceMembers(instanceId), memberEntry(room, user))
      await noteFailure(multi.exec())
    }

  // Memberships nothing held at the previous check: removed if nothing holds them at this one
  // either, so a parting on its way (no longer held, not yet removed) is not announced twice.
  // Claims need no second look: a claim on its way is held (`held` counts handshakes).
  let suspects = new Set<string>()

  /**
   * Releases the claims and memberships this instance's records hold for connections it no
   * longer has (they ended while Redis was away), and has their partings announced: partings
   * first, then the claims, so that the users reconnect to rooms that saw them go.
   */
  async function reconcile(handlers: PresenceHandlers) {
    if (!handlers.held) return
    const [users, entries] = await Promise.all([
      redis.smembers(keys.instanceUsers(instanceId)),
      redis.smembers(keys.instanceMembers(instanceId)),
    ])
    const held = handlers.held()
    const heldUsers = new Set([...held.userIds].map(String))
    const heldMembers = new Set([...held.members].map(({ room, user }) => memberEntry(room, user)))
    const staleUsers = users.filter((user) => !heldUsers.has(user))
    const staleMembers = entries.filter((entry) => !heldMembers.has(entry))
    const ghostMembers = staleMembers.filter((entry) => suspects.has(entry))
    suspects = new Set(staleMembers.filter((entry) => !suspects.has(entry)))
    // Claims go only once no membership is in doubt (the records name members, not ids): a
    // user reconnecting elsewhere and joining again must not lose the new membership to the
    // removal of the old one.
    const ghostUsers = suspects.size > 0 ? [] : staleUsers
    if (ghostMembers.length > 0) {
      const ghosts = ghostMembers.map((entry) => {
        const [room, user] = JSON.parse(entry) as [string, string]
        return { room, user }
      })
      const multi = redis.multi()
      for (const { room, user } of ghosts) multi.srem(keys.room(room), user)
      await multi.srem(keys.instanceMembers(instanceId), ...ghostMembers).exec()
      options.logger?.warn({ count: ghosts.length }, 'parting members of connections gone')
      await handlers.onGhosts?.(ghosts)
    }
    if (ghostUsers.length > 0) {
      const multi = redis.multi()
      for (const user of ghostUsers) {
        multi.eval(RELEASE_IF_OWNER, 1, keys.user(Number(user)), instanceId)
      }
      await multi.srem(keys.instanceUsers(instanceId), ...ghostUsers).exec()
      options.logger?.warn({ count: ghostUsers.length }, 'released users of connections gone')
    }
  }

  let timer: NodeJS.Timeout | undefined
  // Survivors reap only after beating steadily for a full dead interval themselves: after a
  // Redis outage every score is stale, and nobody may judge the others before they had a
  // chance to beat again.
  let healthySince: number | null = null
  let beating = false
  // Set by the first beat: a record missing after it was lost, not yet written.
  let registered = false

  async function reap(deadId: string, handlers: PresenceHandlers) {
    const lockKey = keys.reapLock(deadId)
    const lock = await redis.set(lockKey, instanceId, 'PX', 30_000, 'NX')
    if (lock !== 'OK') return
    const [entries, users, lastBeat] = await Promise.all([
      redis.smembers(keys.instanceMembers(deadId)),
      redis.smembers(keys.instanceUsers(deadId)),
      redis.zscore(keys.instances, deadId),
    ])
    const orphans = entries.map((entry) => {
      const [room, user] = JSON.parse(entry) as [string, string]
      return { room, user }
    })
    try {
      if (orphans.length > 0) {
        const multi = redis.multi()
        for (const { room, user } of orphans) multi.srem(keys.room(room), user)
        await multi.del(keys.instanceMembers(deadId)).exec()
        // Partings first, then the claims: a user reconnecting elsewhere must not have their
        // new joins overtaken by the old connection's partings.
        await handlers.onOrphans(orphans, {
          instanceId: deadId,
          lastBeatMs: lastBeat === null ? Date.now() : Number(lastBeat),
          userIds: users.map(Number),
        })
      }
    } finally {
      const multi = redis.multi()
      for (const user of users) multi.eval(RELEASE_IF_OWNER, 1, keys.user(Number(user)), deadId)
      // The lock goes too: an instance restarted under the same id may die again.
      await multi
        .del(keys.instanceUsers(deadId), lockKey)
        .zrem(keys.instances, deadId)
        .set(keys.reaped(deadId), instanceId, 'PX', 600_000)
        .exec()
    }
  }

  async function beat(handlers: PresenceHandlers) {
    if (beating) return
    beating = true
    try {
      const sent = Date.now()
      const added = await redis.zadd(keys.instances, sent, instanceId)
      // A beat that waited on a reconnecting client proves nothing about the others' silence:
      // theirs waited too, and may have landed with a stale score.
      if (Date.now() - sent > heartbeatMs) healthySince = null
      if (added === 1 && registered) {
        healthySince = null
        if ((await redis.getdel(keys.reaped(instanceId))) !== null) {
          // Another instance judged us dead: our partings are out, our users released.
          options.logger?.warn({ instanceId }, 'this instance was declared dead; evicting clients')
          handlers.onEvicted()
        } else {
          // Nobody reaped us: Redis lost its data. Our connections are alive and so is their
          // presence, which goes back before our next beat.
          options.logger?.warn({ instanceId }, 'presence records lost; registering them again')
          await handlers.onRecordsLost()
        }
      }
      registered = true
      beats++
      if (checksLeft > 0 || beats % CHECK_EVERY_BEATS === 0) {
        await reconcile(handlers)
        checksLeft = Math.max(0, checksLeft - 1)
      }
      const now = Date.now()
      healthySince ??= now
      if (now - healthySince < deadAfterMs) return
      const dead = await redis.zrangebyscore(keys.instances, '-inf', now - deadAfterMs)
      for (const deadId of dead) {
        if (deadId === instanceId) continue
        await reap(deadId, handlers)
      }
    } catch (error) {
      healthySince = null
      checksLeft = CHECKS_AFTER_FAILURE
      options.logger?.warn({ err: (error as Error).message }, 'presence heartbeat failed')
    } finally {
      beating = false
    }
  }

  return {
    instanceId,
    async claimUser(userId) {
      // A user whose instance just died reconnects at once, usually before that instance has
      // missed a heartbeat: a recent heartbeat does not prove the holder alive. Wait for proof
      // either way: the holder beats again (alive: refuse), or it is reaped or lets the user go
      // (the claim is free).
      // Only a silent holder makes this wait last; a loaded survivor may take a while to reap
      // it, so the wait outlasts a full dead interval after the holder's expected death.
      const deadline = Date.now() + 2 * deadAfterMs + 2 * heartbeatMs
      let firstSeen: string | undefined
      for (;;) {
        if ((await redis.set(keys.user(userId), instanceId, 'NX')) === 'OK') {
          await redis.sadd(keys.instanceUsers(instanceId), String(userId))
          return true
        }
        const holder = await redis.get(keys.user(userId))
        if (holder === null) continue
        if (holder === instanceId) return false
        const lastBeat = await redis.zscore(keys.instances, holder)
        if (lastBeat === null) {
          // The holder is not a live instance at all: a claim left behind, free it.
          await redis.eval(RELEASE_IF_OWNER, 1, keys.user(userId), holder)
          continue
        }
        const seen = `${holder} ${lastBeat}`
        firstSeen ??= seen
        if (seen !== firstSeen || Date.now() > deadline) return false
        await setTimeout(heartbeatMs / 4)
      }
    },
    async restoreUser(userId) {
      const claimed = await redis.set(keys.user(userId), instanceId, 'NX')
      if (claimed !== 'OK' && (await redis.get(keys.user(userId))) !== instanceId) return false
      await redis.sadd(keys.instanceUsers(instanceId), String(userId))
      return true
    },
    async releaseUser(userId) {
      await noteFailure(
        redis
          .multi()
          .eval(RELEASE_IF_OWNER, 1, keys.user(userId), instanceId)
          .srem(keys.instanceUsers(instanceId), String(userId))
          .exec(),
      )
    },
    join: membership('sadd'),
    part: membership('srem'),
    async members(room) {
      return sortByCodePoint(await redis.smembers(keys.room(room)))
    },
    forgetRoom: createRoomPresence(redis, prefix).forgetRoom,
    async start(handlers) {
      // A previous process under this id may have died holding users and memberships, which
      // nobody else reaps once this one beats under the same id: let them go first.
      await reap(instanceId, handlers).catch((error) => {
        options.logger?.warn({ err: (error as Error).message }, 'could not clear a previous run')
      })
      await redis.del(keys.reaped(instanceId))
      // The first beat lands before any connection is accepted: a claim by an instance that is
      // not yet listed would look abandoned to the others.
      await beat(handlers)
      timer = setInterval(() => void beat(handlers), heartbeatMs)
      timer.unref()
    },
    async ping() {
      try {
        return (await redis.ping()) === 'PONG'
      } catch {
        return false
      }
    },
    async stop() {
      clearInterval(timer)
      const users = await redis.smembers(keys.instanceUsers(instanceId))
      const multi = redis.multi()
      for (const user of users) multi.eval(RELEASE_IF_OWNER, 1, keys.user(Number(user)), instanceId)
      await multi
        .del(keys.instanceUsers(instanceId), keys.instanceMembers(instanceId))
        .zrem(keys.instances, instanceId)
        .exec()
    },
  }
}
