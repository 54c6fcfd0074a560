import type { QuoteCard } from '@finchat/protocol'

/** How many of the card's daily closes the chart draws. */
export const CHART_DAYS = 30

/** The move a quote card shows: against the previous close, or since the open without one. */
export interface Move {
  /** `today`: against the previous session's close; `since open`: within today's session. */
  basis: 'today' | 'since open'
  change: number
  /** Undefined when the base is 0 (a percentage of nothing). */
  percent?: number
  direction: 'up' | 'down' | 'flat'
  /** Decimals shown: those of the price. */
  digits: number
}

/** The day's move, or undefined when there is nothing to measure it against. */
export function moveOf(card: QuoteCard): Move | undefined {
  const base = card.previous_close ?? card.open
  const basis = card.previous_close === undefined ? 'since open' : 'today'
  if (card.previous_close === undefined && card.open === 0) return undefined
  const change = card.close - base
  const percent = base > 0 ? (change / base) * 100 : undefined
  const digits = priceDigits(card.close)
  // A move too small to show at the price's precision is flat, not a red "−0.00".
  const shown = Number(formatPrice(Math.abs(change), digits).replaceAll(',', ''))
  const direction = shown === 0 ? 'flat' : change > 0 ? 'up' : 'down'
  return { basis, change, direction, digits, ...(percent === undefined ? {} : { percent }) }
}

export interface Chart {
  /** The closes drawn, oldest first. */
  closes: Array<{ date: string; close: number }>
  low: number
  high: number
  /** SVG polyline points in a `width` × `height` box, the high at the top. */
  points: string
  /** Where the last close is in that box. */
  end: { x: number; y: number }
}

/** The last CHART_DAYS closes as a line in a `width` × `height` box, or undefined without any. */
export function chartOf(card: QuoteCard, width: number, height: number): Chart | undefined {
  const closes = (card.series ?? []).slice(-CHART_DAYS)
  if (closes.length === 0) return undefined
  const values = closes.map((day) => day.close)
  const low = Math.min(...values)
  const high = Math.max(...values)
  const span = high - low
  const step = closes.length > 1 ? width / (closes.length - 1) : 0
  const at = values.map((value, index) => ({
    x: round(closes.length > 1 ? index * step : width / 2),
    // A flat series is a line across the middle, not along the bottom.
    y: round(span > 0 ? height - ((value - low) / span) * height : height / 2),
  }))
  const points = at.map(({ x, y }) => `${x},${y}`).join(' ')
  return { closes, low, high, points, end: at[at.length - 1] as { x: number; y: number } }
}

/** Decimals a price is read with: two, four under 1 (a penny stock's cents matter). */
export function priceDigits(price: number): number {
  return price > 0 && price < 1 ? 4 : 2
}

/** A price as people read it, `1,234.50`. */
export function formatPrice(value: number, digits = priceDigits(value)): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: digits })
}

/**
 * The move in words and figures, `+1.23 (+1.34 %)`, with a real minus sign (U+2212), so that the
 * direction never relies on colour alone; a flat move has no sign.
 */
export function describeMove(move: Move): string {
  const sign = move.direction === 'up' ? '+' : move.direction === 'down' ? '\u2212' : ''
  const amount = move.direction === 'flat' ? 0 : Math.abs(move.change)
  const percent = move.percent === undefined ? undefined : Math.abs(move.percent)
  const shownPercent =
    percent === undefined ? '' : ` (${sign}${formatPercent(amount === 0 ? 0 : percent)})`
  return `${sign}${formatPrice(amount, move.digits)}${shownPercent}`
}

export function formatPercent(value: number): string {
  return `${value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} %`
}

export function formatVolume(value: number): string {
  return value.toLocaleString('en-US', { notation: 'compact', maximumFractionDigits: 1 })
}

function round(value: number): number {
  return Math.round(value * 100) / 100
}
