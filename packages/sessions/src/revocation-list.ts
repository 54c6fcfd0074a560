import type { Redis } from 'ioredis'

/**
 * Sessions revoked before their token expires. Every process consults the same list, so a
 * logout is refused everywhere at once; an entry lives as long as the token could.
 */
export interface RevocationList {
  revoke(sessionId: string, expiresAt: number): Promise<void>
  isRevoked(sessionId: string): Promise<boolean>
}

const nowSeconds = () => Math.floor(Date.now() / 1000)

export function createMemoryRevocationList(clock: () => number = nowSeconds): RevocationList {
  const revoked = new Map<string, number>()
  return {
    async revoke(sessionId, expiresAt) {
      revoked.set(sessionId, expiresAt)
      for (const [id, until] of revoked) if (until < clock()) revoked.delete(id)
    },
    async isRevoked(sessionId) {
      const until = revoked.get(sessionId)
      return until !== undefined && until >= clock()
    },
  }
}

export function createRedisRevocationList(redis: Redis, prefix = ''): RevocationList {
  const key = (sessionId: string) => `${prefix}auth:revoked:${sessionId}`
  return {
    async revoke(sessionId, expiresAt) {
      const ttl = Math.max(1, expiresAt - nowSeconds())
      await redis.set(key(sessionId), '1', 'EX', ttl)
    },
    async isRevoked(sessionId) {
      return (await redis.exists(key(sessionId))) === 1
    },
  }
}

/** The list a process uses: shared through Redis when it has one, its own memory otherwise. */
export function createRevocationList(redis: Redis | undefined, prefix = ''): RevocationList {
  return redis ? createRedisRevocationList(redis, prefix) : createMemoryRevocationList()
}
