import { MAX_MESSAGE_LENGTH } from '@finchat/protocol'
import type { QuoteResult } from '../quotes/quote-source.js'

/** Symbols one `/stock=` may ask for, comma-separated. */
export const MAX_SYMBOLS = 5

export const TOO_MANY_SYMBOLS = `You can ask for at most ${MAX_SYMBOLS} symbols at once, separated by commas (e.g. /stock=aapl.us,msft.us).`

/**
 * The message the bot posts for `/stock=<payload>`. The found and not-found texts are the
 * original bot's, word for word (PROTOCOL.md); the two failure texts say whose fault it is.
 */
export function stockAnswer(payload: string, result: QuoteResult): string {
  if (result.kind === 'found') return `${result.symbol} quote is $${result.close} per share`
  const compose = (shown: string) => {
    if (result.kind === 'not-found') return `I could not find stock data for ${shown}`
    if (result.reason === 'refused' || result.reason === 'quota') {
      return `The quote service is unavailable for ${shown}: it refused the request (access denied or daily limit reached). Please try again later.`
    }
    if (result.reason === 'timeout') {
      return `The quote service is unavailable for ${shown}: it did not answer in time. Please try again later.`
    }
    return `The quote service is unavailable for ${shown}: it is not working right now. Please try again later.`
  }
  return fitted(payload, compose)
}

/** Shortens a long payload so that the answer stays within the server's message limit. */
function fitted(payload: string, compose: (shown: string) => string): string {
  const chars = [...payload]
  const room = MAX_MESSAGE_LENGTH - [...compose('')].length
  if (chars.length <= room) return compose(payload)
  return compose(`${chars.slice(0, room - 1).join('')}…`)
}
