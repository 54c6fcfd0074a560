import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyBaseLogger } from 'fastify'
import { type Dispatcher, request } from 'undici'
import { type BotMetrics, noMetrics } from '../bot-metrics.js'
import type {
  HistoryResult,
  HistorySource,
  QuoteResult,
  QuoteSource,
  Unavailable,
  UnavailableReason,
} from './quote-source.js'
import { readStooqBody, readStooqHistory } from './stooq-response.js'

export interface StooqClientOptions {
  /** e.g. `https://stooq.com`; tests point it at a local fake. */
  baseUrl: string
  /** Sent as `&apikey=`; never logged. */
  apiKey?: string
  /** For one request, body included. */
  timeoutMs: number
  /** Further attempts after a network error, timeout or 5xx. */
  retries: number
  /** First backoff delay; each further one doubles, with jitter. */
  retryBaseMs: number
  logger: FastifyBaseLogger
  metrics?: BotMetrics
  dispatcher?: Dispatcher
}

/** A quote answer is a few hundred bytes; anything much bigger is not one. */
const MAX_QUOTE_BYTES = 64 * 1024

/**
 * Stooq sends a symbol's whole daily history, decades of it for old stocks and indices (a few
 * MB at most): it is read through up to this bound, keeping only its last rows in memory.
 */
const MAX_HISTORY_BYTES = 8 * 1024 * 1024

/** Text kept from the end of a history: its last rows are ~50 bytes each, 60 are wanted. */
const HISTORY_TAIL_CHARS = 16 * 1024

/** One of stooq's CSV endpoints, and how to read its answer (a 200 whose body was read). */
interface Endpoint<R> {
  /** For logs and metrics. */
  name: 'quote' | 'history'
  path: string
  query: string
  read(body: AsyncIterable<Buffer>): Promise<R | Unavailable>
}

/** One request's result, and whether another attempt could help. */
interface Attempt<R> {
  result: R | Unavailable
  retry: boolean
}

/**
 * Requests to stooq, whichever endpoint: a timeout per request and retries only where they can
 * help (network errors, timeouts, 5xx); refusals and quota are answered at once.
 */
function createStooqRequests(options: StooqClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, '')
  const metrics = options.metrics ?? noMetrics

  function urlFor(endpoint: Endpoint<unknown>, symbol: string): string {
    const key = options.apiKey ? `&apikey=${encodeURIComponent(options.apiKey)}` : ''
    return `${base}${endpoint.path}?s=${encodeURIComponent(symbol)}${endpoint.query}${key}`
  }

  async function attempt<R>(endpoint: Endpoint<R>, symbol: string): Promise<Attempt<R>> {
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), options.timeoutMs)
    try {
      const response = await request(urlFor(endpoint, symbol), {
        signal: controller.signal,
        headers: { accept: 'text/csv, text/plain;q=0.5', 'user-agent': 'finchat-bot' },
        dispatcher: options.dispatcher,
      })
      if (response.statusCode >= 500) {
        await response.body.dump()
        return unavailable('down', true)
      }
      if (response.statusCode !== 200) {
        // 404 is stooq's answer without an API key; other 4xx and redirects are refusals too.
        await response.body.dump()
        return unavailable('refused')
      }
      return { result: await endpoint.read(response.body), retry: false }
    } catch {
      return unavailable(controller.signal.aborted ? 'timeout' : 'down', true)
    } finally {
      clearTimeout(timer)
    }
  }

  return async function get<R extends { kind: string }>(
    endpoint: Endpoint<R>,
    symbol: string,
  ): Promise<R | Unavailable> {
    for (let n = 0; ; n++) {
      const started = performance.now()
      const { result, retry } = await attempt(endpoint, symbol)
      const seconds = (performance.now() - started) / 1000
      const outcome = 'reason' in result ? result.reason : result.kind
      metrics.upstream(outcome, seconds, endpoint.name)
      options.logger.info(
        { symbol, attempt: n + 1, result: outcome, ms: Math.round(seconds * 1000) },
        `${endpoint.name} request`,
      )
      if (!retry || n >= options.retries) return result
      const backoff = options.retryBaseMs * 2 ** n
      await sleep(backoff / 2 + Math.random() * (backoff / 2))
    }
  }
}

const QUOTE: Endpoint<QuoteResult> = {
  name: 'quote',
  path: '/q/l/',
  query: '&f=sd2t2ohlcv&h&e=csv',
  async read(body) {
    const text = await readLimited(body, MAX_QUOTE_BYTES)
    return text === null ? { kind: 'unavailable', reason: 'refused' } : readStooqBody(text)
  },
}

const HISTORY: Endpoint<HistoryResult> = {
  name: 'history',
  path: '/q/d/l/',
  query: '&i=d',
  async read(body) {
    const text = await readTail(body, MAX_HISTORY_BYTES, HISTORY_TAIL_CHARS)
    return text === null ? { kind: 'unavailable', reason: 'refused' } : readStooqHistory(text)
  },
}

/** Stooq's CSV quote endpoint. */
export function createStooqClient(options: StooqClientOptions): QuoteSource {
  const get = createStooqRequests(options)
  return { lookup: (symbol) => get(QUOTE, symbol) }
}

/** Stooq's daily history endpoint (`/q/d/l/`), with the same timeouts, retries and key. */
export function createStooqHistoryClient(options: StooqClientOptions): HistorySource {
  const get = createStooqRequests(options)
  return { lookup: (symbol) => get(HISTORY, symbol) }
}

function unavailable(reason: UnavailableReason, retry = false): Attempt<never> {
  return { result: { kind: 'unavailable', reason }, retry }
}

async function readLimited(body: AsyncIterable<Buffer>, maxBytes: number): Promise<string | null> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += chunk.length
    if (size > maxBytes) return null
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * The body's first line (the CSV header) and its last `keepChars` or so, cut at a line break so
 * that every row kept is whole; null beyond `maxBytes`.
 */
export async function readTail(
  body: AsyncIterable<Buffer>,
  maxBytes: number,
  keepChars: number,
): Promise<string | null> {
  const decoder = new TextDecoder()
  let head: string | undefined
  let rest = ''
  let size = 0
  for await (const chunk of body) {
    size += chunk.length
    if (size > maxBytes) return null
    rest += decoder.decode(chunk, { stream: true })
    if (head === undefined) {
      const end = rest.indexOf('\n')
      // A header is a short line: a long one is some page, not the CSV.
      if (end === -1) {
        if (rest.length > keepChars) return null
        continue
      }
      head = rest.slice(0, end + 1)
      rest = rest.slice(end + 1)
    }
    if (rest.length > 2 * keepChars) {
      const cut = rest.indexOf('\n', rest.length - keepChars)
      if (cut !== -1) rest = rest.slice(cut + 1)
    }
  }
  return (head ?? '') + rest + decoder.decode()
}
