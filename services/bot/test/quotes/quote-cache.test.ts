import t from 'tap'
import { createQuoteCache } from '../../src/quotes/quote-cache.js'
import type { QuoteResult } from '../../src/quotes/quote-source.js'

/** A quote source answering from a script, counting what it is asked. */
function scripted(...results: QuoteResult[]) {
  const asked: string[] = []
  return {
    asked,
    async lookup(symbol: string) {
      asked.push(symbol)
      return results.shift() ?? { kind: 'not-found' as const }
    },
  }
}

const FOUND: QuoteResult = { kind: 'found', symbol: 'AAPL.US', close: '93.42' }
const DOWN: QuoteResult = { kind: 'unavailable', reason: 'down' }

t.test('an answer is reused until it is older than the TTL', async (t) => {
  let now = 0
  const source = scripted(FOUND, { ...FOUND, close: '94.00' })
  const cache = createQuoteCache(source, { ttlMs: 1000, now: () => now })
  t.same(await cache.lookup('aapl.us'), FOUND)
  now = 999
  t.same(await cache.lookup('AAPL.US'), FOUND, 'any case, same entry')
  now = 1000
  t.same(await cache.lookup('aapl.us'), { ...FOUND, close: '94.00' }, 'asked again once stale')
  t.same(source.asked, ['aapl.us', 'aapl.us'])
})

t.test('failures are not remembered: the next user gets a fresh try', async (t) => {
  const source = scripted(DOWN, FOUND)
  const cache = createQuoteCache(source, { ttlMs: 60_000 })
  t.same(await cache.lookup('aapl.us'), DOWN)
  t.same(await cache.lookup('aapl.us'), FOUND)
})

t.test('lookups in flight are shared, even without a cache', async (t) => {
  const source = scripted(FOUND)
  const cache = createQuoteCache(source, { ttlMs: 0 })
  const all = await Promise.all([
    cache.lookup('aapl.us'),
    cache.lookup('aapl.us'),
    cache.lookup('Aapl.Us'),
  ])
  t.same(all, [FOUND, FOUND, FOUND])
  t.equal(source.asked.length, 1)
})

t.test('memory stays bounded however many symbols users invent', async (t) => {
  const source = scripted()
  const cache = createQuoteCache(source, { ttlMs: 60_000 })
  for (let i = 0; i <= 1000; i++) await cache.lookup(`s${i}`)
  await cache.lookup('s1000')
  await cache.lookup('s0')
  t.same(source.asked.slice(-1), ['s0'], 'the oldest answer was let go')
  t.equal(source.asked.length, 1002, 'the newest was kept')
})
