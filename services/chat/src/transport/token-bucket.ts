export interface RateLimit {
  /** Frames a connection may send at once. */
  burst: number
  /** Frames per second added back to the allowance. */
  perSecond: number
}

/**
 * A per-connection allowance: `take` answers 0 when allowed, or the milliseconds to wait. A
 * class rather than a closure: every open connection has one, and fields cost less than a
 * function and its context.
 */
export class TokenBucket {
  private tokens: number
  private updatedAt: number

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = limit.burst
    this.updatedAt = now()
  }

  take(): number {
    const current = this.now()
    const { burst, perSecond } = this.limit
    this.tokens = Math.min(burst, this.tokens + ((current - this.updatedAt) / 1000) * perSecond)
    this.updatedAt = current
    if (this.tokens >= 1) {
      this.tokens -= 1
      return 0
    }
    return Math.ceil(((1 - this.tokens) / perSecond) * 1000)
  }
}
