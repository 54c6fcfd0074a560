import { type Card, checkCard } from '@finchat/protocol'
import type { HistoryResult, QuoteResult } from '../quotes/quote-source.js'

/**
 * The card for a found quote: its session, and from the history (when it is in) the series and
 * the previous close, the last close dated before the quote's day. Undefined when the quote row
 * lacks what a card needs, or the card would not pass the server's check: the text answer is
 * then sent alone, as before cards.
 */
export function quoteCard(
  quote: Extract<QuoteResult, { kind: 'found' }>,
  history: HistoryResult | undefined,
): Card | undefined {
  const session = quote.session
  if (!session) return undefined
  const card: Card = { kind: 'quote', symbol: quote.symbol.toUpperCase(), ...session }
  if (history?.kind === 'found') {
    // A cached history can be a day behind the quote, never ahead of it but by mistake.
    const series = history.days.filter((day) => day.date <= session.date)
    const previous = series.findLast((day) => day.date < session.date)
    if (previous) card.previous_close = previous.close
    if (series.length > 0) card.series = series.map(({ date, close }) => ({ date, close }))
  }
  const checked = checkCard(card)
  return checked.ok ? checked.card : undefined
}
