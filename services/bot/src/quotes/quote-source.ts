/** What a quote lookup can end in; each kind gets its own answer in the room. */
export type QuoteResult =
  | { kind: 'found'; symbol: string; close: string }
  | { kind: 'not-found' }
  | { kind: 'unavailable'; reason: UnavailableReason }

/**
 * `refused`: the provider answered but would not give quotes (no or bad API key, an HTML page,
 * anything that is not its CSV); `quota`: over its daily limit; `down`: unreachable or failing
 * (5xx); `timeout`: no answer in time.
 */
export type UnavailableReason = 'refused' | 'quota' | 'down' | 'timeout'

export interface QuoteSource {
  /** Never rejects: every failure is a result. `symbol` is already validated. */
  lookup(symbol: string): Promise<QuoteResult>
}

const SYMBOL = /^[A-Za-z0-9.^-]{1,20}$/

/**
 * The symbol to look up for a command payload, or null when the payload cannot be a symbol (it
 * is then answered as not found without asking the provider).
 */
export function symbolOf(payload: string): string | null {
  const symbol = payload.trim()
  return SYMBOL.test(symbol) ? symbol.toLowerCase() : null
}
