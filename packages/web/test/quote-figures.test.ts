import type { QuoteCard } from '@finchat/protocol'
import t from 'tap'
import { chartOf, describeMove, moveOf } from '../src/chat/quote-figures.js'

// What a quote card shows: the day's move in words and figures, and the line of recent closes.

const card = (extra: Partial<QuoteCard> = {}): QuoteCard => ({
  kind: 'quote',
  symbol: 'AAPL.US',
  date: '2026-11-27',
  time: '22:00:09',
  open: 93.1,
  high: 94.2,
  low: 92.8,
  close: 93.42,
  volume: 1234567,
  ...extra,
})
const days = (...closes: number[]) =>
  closes.map((close, i) => ({ date: `2026-10-${String(i + 1).padStart(2, '0')}`, close }))

t.test("the day's move is against the previous close, signed in text", async (t) => {
  const up = moveOf(card({ previous_close: 92.1 }))
  t.match(up, { basis: 'today', direction: 'up' })
  t.equal(describeMove(up as NonNullable<typeof up>), '+1.32 (+1.43 %)')
  const down = moveOf(card({ previous_close: 95.5 }))
  t.match(down, { basis: 'today', direction: 'down' })
  t.equal(describeMove(down as NonNullable<typeof down>), '\u22122.08 (\u22122.18 %)')
})

t.test('without a previous close, the move is since the open, and says so', async (t) => {
  const move = moveOf(card())
  t.match(move, { basis: 'since open', direction: 'up' })
  t.equal(describeMove(move as NonNullable<typeof move>), '+0.32 (+0.34 %)')
  t.equal(moveOf(card({ open: 0 })), undefined, 'nothing to measure against')
})

t.test('a move too small to show is flat, with no sign', async (t) => {
  const move = moveOf(card({ previous_close: 93.421 }))
  t.match(move, { direction: 'flat' })
  t.equal(describeMove(move as NonNullable<typeof move>), '0.00 (0.00 %)')
  const fromZero = moveOf(card({ previous_close: 0 }))
  t.equal(describeMove(fromZero as NonNullable<typeof fromZero>), '+93.42', 'no percent of 0')
})

t.test('the chart draws the last 30 closes, the high at the top', async (t) => {
  const series = days(...Array.from({ length: 60 }, (_, i) => 100 + i))
  const chart = chartOf(card({ series }), 290, 50)
  t.equal(chart?.closes.length, 30)
  t.equal(chart?.closes[0]?.close, 130, 'the oldest of the last 30')
  t.equal(chart?.low, 130)
  t.equal(chart?.high, 159)
  t.equal(chart?.points.split(' ')[0], '0,50', 'the low at the bottom left')
  t.same(chart?.end, { x: 290, y: 0 }, 'the high at the top right')
})

t.test('a flat or one-day series is a line across the middle; none is no chart', async (t) => {
  t.equal(chartOf(card({ series: days(5, 5) }), 100, 40)?.points, '0,20 100,20')
  t.same(chartOf(card({ series: days(5) }), 100, 40)?.end, { x: 50, y: 20 })
  t.equal(chartOf(card(), 100, 40), undefined)
})
