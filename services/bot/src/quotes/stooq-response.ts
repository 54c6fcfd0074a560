import Papa from 'papaparse'
import type { QuoteResult } from './quote-source.js'

const QUOTA_TEXT = 'exceeded the daily hits limit'
const POSITIVE_DECIMAL = /^\d+(\.\d+)?$/

/**
 * Reads a 200 answer of stooq's `/q/l/` CSV endpoint. Only a body whose header row starts with
 * `Symbol` and has a `Close` column is a quote answer; stooq sends refusals with status 200 too,
 * as an HTML page or a line of plain text.
 */
export function readStooqBody(body: string): QuoteResult {
  const text = body.replace(/^\uFEFF/, '').trim()
  if (text.toLowerCase().includes(QUOTA_TEXT)) return { kind: 'unavailable', reason: 'quota' }
  const parsed = Papa.parse<Record<string, string | undefined>>(text, {
    header: true,
    skipEmptyLines: true,
    transformHeader: (header) => header.trim(),
  })
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
  return { kind: 'found', symbol, close }
}
