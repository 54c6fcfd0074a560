import type { Lookup } from './quote-source.js'

export interface LookupCacheOptions<R> {
  /** How long a remembered answer is reused. */
  ttlMs: number
  /** Which answers may be remembered; failures are not, so the next user gets a fresh try. */
  remember: (result: R) => boolean
  now?: () => number
}

/** Symbols are user input: bound what remembering them can cost. */
const MAX_ENTRIES = 1000

/**
 * Many users asking for the same symbol at once cost one upstream request: lookups in flight are
 * shared, and recent answers are reused for `ttlMs`. Symbols are case-insensitive.
 */
export function createLookupCache<R>(source: Lookup<R>, options: LookupCacheOptions<R>): Lookup<R> {
  const now = options.now ?? Date.now
  const answers = new Map<string, { result: R; expiresAt: number }>()
  const inFlight = new Map<string, Promise<R>>()

  return {
    lookup(symbol) {
      const key = symbol.toLowerCase()
      const cached = answers.get(key)
      if (cached && cached.expiresAt > now()) return Promise.resolve(cached.result)
      answers.delete(key)
      const pending = inFlight.get(key)
      if (pending) return pending
      const lookup = source.lookup(key).then((result) => {
        inFlight.delete(key)
        if (options.remember(result) && options.ttlMs > 0) {
          answers.set(key, { result, expiresAt: now() + options.ttlMs })
          // Maps iterate in insertion order, so the first key is the oldest answer.
          if (answers.size > MAX_ENTRIES) answers.delete(answers.keys().next().value as string)
        }
        return result
      })
      inFlight.set(key, lookup)
      return lookup
    },
  }
}
