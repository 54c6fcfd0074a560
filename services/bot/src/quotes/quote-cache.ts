import { createLookupCache } from './lookup-cache.js'
import type { HistorySource, QuoteSource } from './quote-source.js'

export interface QuoteCacheOptions {
  /** How long a found or not-found answer is reused. Failures are never cached. */
  ttlMs: number
  now?: () => number
}

/** Quotes, shared while in flight and reused for `ttlMs` (seconds: a quote moves). */
export function createQuoteCache(source: QuoteSource, options: QuoteCacheOptions): QuoteSource {
  return createLookupCache(source, { ...options, remember: (r) => r.kind !== 'unavailable' })
}

/** Daily histories, likewise; they change once a day, so `ttlMs` can be hours. */
export function createHistoryCache(
  source: HistorySource,
  options: QuoteCacheOptions,
): HistorySource {
  return createLookupCache(source, { ...options, remember: (r) => r.kind !== 'unavailable' })
}
