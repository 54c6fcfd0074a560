/**
 * Counters in fixed windows, in this process's memory: a key's window starts with its first
 * count and ends `windowSeconds` later, taking the count with it. The in-memory limiters' one
 * store (Redis keeps the same shape with INCR and EXPIRE).
 */
export class FixedWindows {
  private readonly windows = new Map<string, { count: number; resetAt: number }>()

  constructor(
    private readonly windowSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until the key's window ends when its count has reached `max`, else null. */
  overBy(key: string, max: number): number | null {
    const entry = this.current(key)
    return entry && entry.count >= max ? Math.ceil((entry.resetAt - this.now()) / 1000) : null
  }

  count(key: string) {
    if (this.windows.size > 100_000) this.sweep()
    const entry = this.current(key)
    if (entry) entry.count++
    else this.windows.set(key, { count: 1, resetAt: this.now() + this.windowSeconds * 1000 })
  }

  /** Takes one count back, unless the window ended meanwhile. */
  uncount(key: string) {
    const entry = this.current(key)
    if (entry && entry.count > 0) entry.count--
  }

  private current(key: string) {
    const entry = this.windows.get(key)
    if (entry && entry.resetAt <= this.now()) {
      this.windows.delete(key)
      return undefined
    }
    return entry
  }

  private sweep() {
    for (const key of this.windows.keys()) this.current(key)
  }
}
