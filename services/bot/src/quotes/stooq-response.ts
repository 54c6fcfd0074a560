import Papa from 'papaparse'
import {
  type DailyClose,
  type HistoryResult,
  MAX_HISTORY_ROWS,
  type QuoteResult,
  type QuoteSession,
} from './quote-source.js'

const QUOTA_TEXT = 'exceeded the daily hits limit'
const POSITIVE_DECIMAL = /^\d+(\.\d+)?$/
const DAY = /^\d{4}-\d{2}-\d{2}$/
const TIME = /^\d{2}:\d{2}:\d{2}$/
/** Stooq's whole answer for a symbol it has no history of. */
const NO_DATA = 'no data'

type Row = Record<string, string | undefined>

function parseCsv(text: string) {
  return Papa.parse<Row>(text, {
    header: true,
    skipEmptyLines: true,
    transformHeader: (header) => header.trim(),
  })
}

/**
 * Reads a 200 answer of stooq's `/q/l/` CSV endpoint. Only a body whose header row starts with
 * `Symbol` and has a `Close` column is a quote answer; stooq sends refusals with status 200 too,
 * as an HTML page or a line of plain text.
 */
export function readStooqBody(body: string): QuoteResult {
  const text = body.replace(/^\uFEFF/, '').trim()
  if (text.toLowerCase().includes(QUOTA_TEXT)) return { kind: 'unavailable', reason: 'quota' }
  const parsed = parseCsv(text)
  const fields = parsed.meta.fields ?? []
  if (fields[0] !== 'Symbol' || !fields.includes('Close')) {
    return { kind: 'unavailable', reason: 'refused' }
  }
  const row = parsed.data[0]
  const symbol = row?.Symbol?.trim() ?? ''
  const close = row?.Close?.trim() ?? ''
  if (symbol === '' || symbol === 'N/D' || !POSITIVE_DECIMAL.test(close) || Number(close) <= 0) {
    return { kind: 'not-found' }
  }
  const session = row ? sessionOf(row) : undefined
  return session ? { kind: 'found', symbol, close, session } : { kind: 'found', symbol, close }
}

/** The quote row's session, or undefined when any of its fields is missing or odd. */
function sessionOf(row: Row): QuoteSession | undefined {
  const date = row.Date?.trim() ?? ''
  const time = row.Time?.trim() ?? ''
  const [open, high, low, close, volume] = ['Open', 'High', 'Low', 'Close', 'Volume'].map((name) =>
    decimal(row[name]),
  )
  if (!DAY.test(date) || !TIME.test(time)) return undefined
  if (open === undefined || high === undefined || low === undefined || close === undefined) {
    return undefined
  }
  // Indices trade no shares: stooq leaves their volume empty (or N/D), which is none.
  const noVolume = ['', 'N/D'].includes(row.Volume?.trim() ?? '')
  if (!noVolume && (volume === undefined || !Number.isInteger(volume))) return undefined
  return { date, time, open, high, low, close, volume: volume ?? 0 }
}

function decimal(value: string | undefined): number | undefined {
  const text = value?.trim() ?? ''
  return POSITIVE_DECIMAL.test(text) ? Number(text) : undefined
}

/**
 * Reads a 200 answer of stooq's daily history `/q/d/l/`: CSV `Date,Open,High,Low,Close,Volume`,
 * oldest first. Keeps the last `MAX_HISTORY_ROWS` rows whose date and close read well; `No data`
 * (stooq's answer for an unknown symbol) is not found, anything else that is not the CSV a
 * refusal, as for quotes.
 */
export function readStooqHistory(body: string): HistoryResult {
  const text = body.replace(/^\uFEFF/, '').trim()
  const lower = text.toLowerCase()
  if (lower.includes(QUOTA_TEXT)) return { kind: 'unavailable', reason: 'quota' }
  if (lower === NO_DATA) return { kind: 'not-found' }
  const parsed = parseCsv(text)
  const fields = parsed.meta.fields ?? []
  if (fields[0] !== 'Date' || !fields.includes('Close')) {
    return { kind: 'unavailable', reason: 'refused' }
  }
  const days: DailyClose[] = []
  for (const row of parsed.data) {
    const date = row.Date?.trim() ?? ''
    const close = decimal(row.Close)
    if (DAY.test(date) && close !== undefined) days.push({ date, close })
  }
  if (days.length === 0) return { kind: 'not-found' }
  return { kind: 'found', days: days.slice(-MAX_HISTORY_ROWS) }
}
