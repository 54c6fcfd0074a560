import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'

/** A session revoked before its token expires (unix seconds). */
export interface Revocation {
  sessionId: string
  expiresAt: number
}

/**
 * Sessions revoked before their token expires. Every process consults the same list, so a
 * logout is refused everywhere at once; an entry lives as long as the token could. The durable
 * record is auth's sessions table: the list is a copy, which auth loads again whenever the list
 * has lost it (Redis restarted empty). Until then the list does not answer.
 */
export interface RevocationList {
  revoke(sessionId: string, expiresAt: number): Promise<void>
  /** Throws `RevocationsUnknownError` while the list is not loaded, so callers fail closed. */
  isRevoked(sessionId: string): Promise<boolean>
  /** false once the list has lost what was loaded into it (and before the first load). */
  isLoaded(): Promise<boolean>
  /** Writes the revocations still in force, then marks the list loaded. */
  load(revocations: Revocation[]): Promise<void>
}

/** The list cannot tell whether a session is revoked: it lost its entries and is being reloaded. */
export class RevocationsUnknownError extends Error {
  constructor() {
    super('the list of revoked sessions is not loaded (yet)')
    this.name = 'RevocationsUnknownError'
  }
}

const nowSeconds = () => Math.floor(Date.now() / 1000)

/**
 * In one process's memory, shared by the services it runs: empty at start until its auth loads
 * it (before the process listens), and it cannot lose entries without the process going too,
 * so it always answers.
 */
export function createMemoryRevocationList(clock: () => number = nowSeconds): RevocationList {
  const revoked = new Map<string, number>()
  let loaded = false
  const add = (sessionId: string, expiresAt: number) => {
    revoked.set(sessionId, expiresAt)
    for (const [id, until] of revoked) if (until < clock()) revoked.delete(id)
  }
  return {
    async revoke(sessionId, expiresAt) {
      add(sessionId, expiresAt)
    },
    async isRevoked(sessionId) {
      const until = revoked.get(sessionId)
      return until !== undefined && until >= clock()
    },
    async isLoaded() {
      return loaded
    },
    async load(revocations) {
      for (const { sessionId, expiresAt } of revocations) add(sessionId, expiresAt)
      loaded = true
    },
  }
}

const LOAD_CHUNK = 500

const MARK_LOADED = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[1])
return 1`

export function createRedisRevocationList(redis: Redis, prefix = ''): RevocationList {
  const key = (sessionId: string) => `${prefix}auth:revoked:${sessionId}`
  // Written after the entries, gone with them when Redis loses its data.
  const loadedKey = `${prefix}auth:revocations-loaded`
  const loadingKey = `${prefix}auth:revocations-loading`
  const ttl = (expiresAt: number) => Math.max(1, expiresAt - nowSeconds())
  return {
    async revoke(sessionId, expiresAt) {
      await redis.set(key(sessionId), '1', 'EX', ttl(expiresAt))
    },
    async isRevoked(sessionId) {
      // One command: both answers come from the same state of Redis.
      const [loaded, revoked] = await redis.mget(loadedKey, key(sessionId))
      if (loaded === null) throw new RevocationsUnknownError()
      return revoked !== null
    },
    async isLoaded() {
      return (await redis.exists(loadedKey)) === 1
    },
    async load(revocations) {
      // A Redis restarted in the middle of a load loses the entries written before: the mark is
      // set only if this load's token survived, i.e. Redis kept everything this load wrote.
      const token = randomUUID()
      await redis.set(loadingKey, token, 'EX', 600)
      for (let i = 0; i < revocations.length; i += LOAD_CHUNK) {
        const pipeline = redis.pipeline()
        for (const { sessionId, expiresAt } of revocations.slice(i, i + LOAD_CHUNK)) {
          pipeline.set(key(sessionId), '1', 'EX', ttl(expiresAt))
        }
        const results = (await pipeline.exec()) ?? []
        const failed = results.find(([error]) => error)
        if (failed) throw failed[0]
      }
      const marked = await redis.eval(MARK_LOADED, 2, loadingKey, loadedKey, token)
      if (marked !== 1) throw new Error('Redis lost entries during the load of revoked sessions')
    },
  }
}

/** The list a process uses: shared through Redis when it has one, its own memory otherwise. */
export function createRevocationList(redis: Redis | undefined, prefix = ''): RevocationList {
  return redis ? createRedisRevocationList(redis, prefix) : createMemoryRevocationList()
}
