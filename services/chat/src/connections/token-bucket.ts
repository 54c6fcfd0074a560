export interface RateLimit {
  /** Frames a connection may send at once. */
  burst: number
  /** Frames per second added back to the allowance. */
  perSecond: number
}

/** A per-connection allowance: `take` answers 0 when allowed, or the milliseconds to wait. */
export function createTokenBucket(limit: RateLimit, now: () => number = Date.now) {
  let tokens = limit.burst
  let updatedAt = now()
  return {
    take(): number {
      const current = now()
      tokens = Math.min(limit.burst, tokens + ((current - updatedAt) / 1000) * limit.perSecond)
      updatedAt = current
      if (tokens >= 1) {
        tokens -= 1
        return 0
      }
      return Math.ceil(((1 - tokens) / limit.perSecond) * 1000)
    },
  }
}
