import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'

export const CSV_HEADER = 'Symbol,Date,Time,Open,High,Low,Close,Volume'
export const HISTORY_HEADER = 'Date,Open,High,Low,Close,Volume'
/** The date of every quote the fake gives; its standard histories end on it. */
export const QUOTE_DATE = '2026-11-27'

const QUOTE_PATH = '/q/l/'
const HISTORY_PATH = '/q/d/l/'

/**
 * One scripted answer; `hangUp` closes the connection without a response. Without `status` and
 * `body`, the standard answer (after `delayMs`).
 */
export interface FakeAnswer {
  status?: number
  body?: string
  contentType?: string
  delayMs?: number
  hangUp?: boolean
}

export interface FakeRequest {
  symbol: string | null
  apiKey: string | null
  url: string
  /** When it arrived, epoch ms. */
  at: number
}

export interface FakeDay {
  date: string
  close: number
}

/**
 * A local stand-in for stooq's `/q/l/` CSV quote endpoint and its `/q/d/l/` daily history. Known
 * symbols answer a quote row and a history of 100 weekdays up to `QUOTE_DATE` (its last close
 * the quote's), unknown ones the `N/D` row and the `No data` stooq sends; answers can be scripted
 * per symbol and endpoint, one per request. With `apiKey`, a request without that key gets
 * stooq's 404 from both.
 */
export async function startFakeStooq(t: Test, options: { apiKey?: string } = {}) {
  const quotes = new Map<string, string>()
  const histories = new Map<string, FakeDay[]>()
  const scripts = new Map<string, FakeAnswer[]>()
  const historyScripts = new Map<string, FakeAnswer[]>()
  const requests: FakeRequest[] = []
  const historyRequests: FakeRequest[] = []
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake')
    const symbol = url.searchParams.get('s')
    const apiKey = url.searchParams.get('apikey')
    const isHistory = url.pathname === HISTORY_PATH
    const request = { symbol, apiKey, url: req.url ?? '', at: Date.now() }
    ;(isHistory ? historyRequests : requests).push(request)
    const scripted = (isHistory ? historyScripts : scripts).get(symbol ?? '')?.shift()
    const standard = () => standardAnswer(url.pathname, symbol, apiKey)
    const answer =
      scripted === undefined
        ? standard()
        : scripted.status === undefined && scripted.body === undefined
          ? { ...standard(), ...scripted }
          : scripted
    if (answer.delayMs) await sleep(answer.delayMs)
    if (answer.hangUp) {
      req.socket.destroy()
      return
    }
    res.writeHead(answer.status ?? 200, { 'content-type': answer.contentType ?? 'text/csv' })
    res.end(answer.body ?? '')
  })

  function standardAnswer(path: string, symbol: string | null, apiKey: string | null): FakeAnswer {
    const known = path === QUOTE_PATH || path === HISTORY_PATH
    if (!known || (options.apiKey !== undefined && apiKey !== options.apiKey)) {
      return { status: 404, body: 'Not Found', contentType: 'text/plain' }
    }
    if (path === HISTORY_PATH) {
      const days = historyOf(symbol ?? '')
      if (!days) return { body: 'No data', contentType: 'text/plain' }
      const rows = days.map(
        ({ date, close }) =>
          `${date},${close},${close + 1},${Math.max(0, close - 1)},${close},1000`,
      )
      return { body: `${HISTORY_HEADER}\r\n${rows.join('\r\n')}\r\n` }
    }
    const close = quotes.get(symbol ?? '')
    const shown = (symbol ?? '').toUpperCase()
    const row = close
      ? `${shown},${QUOTE_DATE},22:00:09,93.1,94.2,92.8,${close},1234567`
      : `${shown},N/D,N/D,N/D,N/D,N/D,N/D,N/D`
    return { body: `${CSV_HEADER}\r\n${row}\r\n` }
  }

  function historyOf(symbol: string): FakeDay[] | undefined {
    const days = histories.get(symbol)
    if (days) return days
    const close = quotes.get(symbol)
    return close === undefined ? undefined : standardHistory(Number(close))
  }

  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(async () => {
    server.closeAllConnections()
    server.close()
  })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Requests for quotes (`/q/l/`, and any other path but the history's). */
    requests,
    /** Requests for daily histories (`/q/d/l/`). */
    historyRequests,
    /**
     * `symbol` (lower case, as the bot asks for it) has this close price from now on, and a
     * standard history ending with it (unless `history` gave it one).
     */
    quote(symbol: string, close: string) {
      quotes.set(symbol, close)
    },
    /** `symbol`'s daily history from now on, oldest first. */
    history(symbol: string, days: FakeDay[]) {
      histories.set(symbol, days)
    },
    /** The next quote requests for `symbol` get these answers, in order. */
    script(symbol: string, ...answers: FakeAnswer[]) {
      scripts.set(symbol, [...(scripts.get(symbol) ?? []), ...answers])
    },
    /** The next history requests for `symbol` get these answers, in order. */
    scriptHistory(symbol: string, ...answers: FakeAnswer[]) {
      historyScripts.set(symbol, [...(historyScripts.get(symbol) ?? []), ...answers])
    },
    requestsFor(symbol: string) {
      return requests.filter((request) => request.symbol === symbol)
    },
    historyRequestsFor(symbol: string) {
      return historyRequests.filter((request) => request.symbol === symbol)
    },
  }
}

/**
 * 100 weekdays up to `QUOTE_DATE`, the last close `close` and each one before it 1 % lower than
 * the next (so the day before's is `close / 1.01`), rounded to cents.
 */
export function standardHistory(close: number): FakeDay[] {
  const days: FakeDay[] = []
  const day = new Date(`${QUOTE_DATE}T00:00:00Z`)
  let price = close
  while (days.length < 100) {
    const weekday = day.getUTCDay()
    if (weekday !== 0 && weekday !== 6) {
      days.push({ date: day.toISOString().slice(0, 10), close: Math.round(price * 100) / 100 })
      price /= 1.01
    }
    day.setUTCDate(day.getUTCDate() - 1)
  }
  return days.reverse()
}

export type FakeStooq = Awaited<ReturnType<typeof startFakeStooq>>
