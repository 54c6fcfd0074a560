import { MAX_CARD_SERIES } from '@finchat/protocol'

/** What a quote lookup can end in; each kind gets its own answer in the room. */
export type QuoteResult =
  | {
      kind: 'found'
      /** As the provider writes it, e.g. `AAPL.US`. */
      symbol: string
      /** As the provider writes it: the answer's text shows it unchanged. */
      close: string
      /** The rest of the row, when every field of it reads as it should (for the card). */
      session?: QuoteSession
    }
  | { kind: 'not-found' }
  | Unavailable

/** The quote's trading session: the provider's date and time, prices and volume. */
export interface QuoteSession {
  date: string
  time: string
  open: number
  high: number
  low: number
  close: number
  volume: number
}

export type Unavailable = { kind: 'unavailable'; reason: UnavailableReason }

/** One row of the daily history. */
export interface DailyClose {
  date: string
  close: number
}

/** What a daily history lookup can end in. */
export type HistoryResult =
  | { kind: 'found' /** Oldest first, at most the last `MAX_HISTORY_ROWS`. */; days: DailyClose[] }
  | { kind: 'not-found' }
  | Unavailable

/** Daily closes a history answer keeps: as many as a card carries. */
export const MAX_HISTORY_ROWS = MAX_CARD_SERIES

/**
 * `refused`: the provider answered but would not give quotes (no or bad API key, an HTML page,
 * anything that is not its CSV); `quota`: over its daily limit; `down`: unreachable or failing
 * (5xx); `timeout`: no answer in time.
 */
export type UnavailableReason = 'refused' | 'quota' | 'down' | 'timeout'

/** Never rejects: every failure is a result. `symbol` is already validated. */
export interface Lookup<R> {
  lookup(symbol: string): Promise<R>
}

export type QuoteSource = Lookup<QuoteResult>
export type HistorySource = Lookup<HistoryResult>

const SYMBOL = /^[A-Za-z0-9.^-]{1,20}$/

/**
 * The symbol to look up for a command payload, or null when the payload cannot be a symbol (it
 * is then answered as not found without asking the provider).
 */
export function symbolOf(payload: string): string | null {
  const symbol = payload.trim()
  return SYMBOL.test(symbol) ? symbol.toLowerCase() : null
}
