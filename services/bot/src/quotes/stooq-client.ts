import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyBaseLogger } from 'fastify'
import { type Dispatcher, request } from 'undici'
import { type BotMetrics, noMetrics } from '../bot-metrics.js'
import type { QuoteResult, QuoteSource, UnavailableReason } from './quote-source.js'
import { readStooqBody } from './stooq-response.js'

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
const MAX_BODY_BYTES = 64 * 1024

type Attempt = QuoteResult & { retry?: boolean }

/** Stooq's CSV quote endpoint, with a timeout per request and retries only where they can help. */
export function createStooqClient(options: StooqClientOptions): QuoteSource {
  const base = options.baseUrl.replace(/\/+$/, '')
  const metrics = options.metrics ?? noMetrics

  function urlFor(symbol: string): string {
    const key = options.apiKey ? `&apikey=${encodeURIComponent(options.apiKey)}` : ''
    return `${base}/q/l/?s=${encodeURIComponent(symbol)}&f=sd2t2ohlcv&h&e=csv${key}`
  }

  async function attempt(symbol: string): Promise<Attempt> {
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), options.timeoutMs)
    try {
      const response = await request(urlFor(symbol), {
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
      const body = await readLimited(response.body)
      return body === null ? unavailable('refused') : readStooqBody(body)
    } catch {
      return unavailable(controller.signal.aborted ? 'timeout' : 'down', true)
    } finally {
      clearTimeout(timer)
    }
  }

  return {
    async lookup(symbol) {
      for (let n = 0; ; n++) {
        const started = performance.now()
        const { retry, ...result } = await attempt(symbol)
        const seconds = (performance.now() - started) / 1000
        const outcome = result.kind === 'unavailable' ? result.reason : result.kind
        metrics.upstream(outcome, seconds)
        options.logger.info(
          { symbol, attempt: n + 1, result: outcome, ms: Math.round(seconds * 1000) },
          'quote request',
        )
        if (!retry || n >= options.retries) return result
        const backoff = options.retryBaseMs * 2 ** n
        await sleep(backoff / 2 + Math.random() * (backoff / 2))
      }
    },
  }
}

function unavailable(reason: UnavailableReason, retry = false): Attempt {
  return { kind: 'unavailable', reason, retry }
}

async function readLimited(body: AsyncIterable<Buffer>): Promise<string | null> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) return null
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}
