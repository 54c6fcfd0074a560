import { MAX_MESSAGE_LENGTH } from '@finchat/protocol'
import t from 'tap'
import { stockAnswer } from '../../src/commands/stock-answers.js'
import { symbolOf } from '../../src/quotes/quote-source.js'

t.test('the texts of PROTOCOL.md', async (t) => {
  t.equal(
    stockAnswer('aapl.us', { kind: 'found', symbol: 'AAPL.US', close: '93.42' }),
    'AAPL.US quote is $93.42 per share',
  )
  t.equal(
    stockAnswer(' Aapl.Us ', { kind: 'not-found' }),
    'I could not find stock data for  Aapl.Us ',
  )
})

t.test('an answer never exceeds what the server accepts', async (t) => {
  const payload = 'é'.repeat(MAX_MESSAGE_LENGTH)
  for (const result of [
    { kind: 'not-found' as const },
    { kind: 'unavailable' as const, reason: 'refused' as const },
    { kind: 'unavailable' as const, reason: 'timeout' as const },
  ]) {
    const answer = stockAnswer(payload, result)
    t.equal([...answer].length, MAX_MESSAGE_LENGTH, `${result.kind}: cut to the limit`)
    t.match(answer, /é…/, 'and says it was cut')
  }
})

t.test('symbols: letters, digits and .^- up to 20, trimmed and lower-cased', async (t) => {
  t.equal(symbolOf(' AAPL.US '), 'aapl.us')
  t.equal(symbolOf('^SPX'), '^spx')
  t.equal(symbolOf('BRK-B.US'), 'brk-b.us')
  t.equal(symbolOf('x'.repeat(20)), 'x'.repeat(20))
  for (const bad of ['', '   ', 'x'.repeat(21), 'aapl us', 'aapl&s=msft', '../etc', 'ąbc', 'a/b']) {
    t.equal(symbolOf(bad), null, JSON.stringify(bad))
  }
})
