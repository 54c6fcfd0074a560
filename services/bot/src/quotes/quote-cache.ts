import type { QuoteResult, QuoteSource } from './quote-source.js'

export interface QuoteCacheOptions {
  /** How long a found or not-found answer is reused. Failures are never cached. */
  ttlMs: number
  now?: () => number
}

/** Symbols are user input: bound what remembering them can cost. */
const MAX_ENTRIES = 1000

/**
 * Many users asking for the same symbol at once cost one upstream request: lookups in flight are
 * shared, and recent answers are reused for `ttlMs`.
 */
export function createQuoteCache(source: QuoteSource, options: QuoteCacheOptions): QuoteSource {
  const now = options.now ?? Date.now
  const answers = new Map<string, { result: QuoteResult; expiresAt: number }>()
  const inFlight = new Map<string, Promise<QuoteResult>>()

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
        if (result.kind !== 'unavailable' && options.ttlMs > 0) {
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
