import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'

export const CSV_HEADER = 'Symbol,Date,Time,Open,High,Low,Close,Volume'

/** One scripted answer; `hangUp` closes the connection without a response. */
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

/**
 * A local stand-in for stooq's `/q/l/` CSV endpoint. Known symbols answer a quote row, unknown
 * ones the `N/D` row stooq sends; answers can be scripted per symbol, one per request. With
 * `apiKey`, a request without that key gets stooq's 404.
 */
export async function startFakeStooq(t: Test, options: { apiKey?: string } = {}) {
  const quotes = new Map<string, string>()
  const scripts = new Map<string, FakeAnswer[]>()
  const requests: FakeRequest[] = []
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake')
    const symbol = url.searchParams.get('s')
    const apiKey = url.searchParams.get('apikey')
    requests.push({ symbol, apiKey, url: req.url ?? '', at: Date.now() })
    const answer =
      scripts.get(symbol ?? '')?.shift() ?? standardAnswer(url.pathname, symbol, apiKey)
    if (answer.delayMs) await sleep(answer.delayMs)
    if (answer.hangUp) {
      req.socket.destroy()
      return
    }
    res.writeHead(answer.status ?? 200, { 'content-type': answer.contentType ?? 'text/csv' })
    res.end(answer.body ?? '')
  })

  function standardAnswer(path: string, symbol: string | null, apiKey: string | null): FakeAnswer {
    if (path !== '/q/l/' || (options.apiKey !== undefined && apiKey !== options.apiKey)) {
      return { status: 404, body: 'Not Found', contentType: 'text/plain' }
    }
    const close = quotes.get(symbol ?? '')
    const shown = (symbol ?? '').toUpperCase()
    const row = close
      ? `${shown},2026-11-27,22:00:09,93.1,94.2,92.8,${close},1234567`
      : `${shown},N/D,N/D,N/D,N/D,N/D,N/D,N/D`
    return { body: `${CSV_HEADER}\r\n${row}\r\n` }
  }

  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(async () => {
    server.closeAllConnections()
    server.close()
  })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    /** `symbol` (lower case, as the bot asks for it) has this close price from now on. */
    quote(symbol: string, close: string) {
      quotes.set(symbol, close)
    },
    /** The next requests for `symbol` get these answers, in order. */
    script(symbol: string, ...answers: FakeAnswer[]) {
      scripts.set(symbol, [...(scripts.get(symbol) ?? []), ...answers])
    },
    requestsFor(symbol: string) {
      return requests.filter((request) => request.symbol === symbol)
    },
  }
}

export type FakeStooq = Awaited<ReturnType<typeof startFakeStooq>>
