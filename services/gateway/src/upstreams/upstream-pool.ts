import { lookup as dnsLookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import type { FastifyBaseLogger } from 'fastify'
import { request } from 'undici'

/** `ready`: /readyz answers 200; `alive`: it answers, but not ready; `down`: no answer. */
export type UpstreamState = 'ready' | 'alive' | 'down'

export interface Upstream {
  url: string
  state: UpstreamState
}

export interface UpstreamPoolOptions {
  /** Base URLs (`http://host:port`); a host name stands for every address it resolves to. */
  urls: string[]
  resolveEveryMs: number
  checkEveryMs: number
  checkTimeoutMs?: number
  logger: FastifyBaseLogger
  /** Every address of a host name; DNS by default. */
  lookup?: (hostname: string) => Promise<string[]>
}

export interface UpstreamPool {
  /** Resolves the names and checks every instance once, then keeps doing so in the background. */
  start(): Promise<void>
  stop(): void
  /** The next instance for a new connection: ready ones in turn, else alive ones, else none. */
  pick(): string | undefined
  /** A request to it just failed: skip it until a check finds it again. */
  markDown(url: string): void
  list(): Upstream[]
}

async function lookupAll(hostname: string): Promise<string[]> {
  const addresses = await dnsLookup(hostname, { all: true })
  return addresses.map((entry) => entry.address)
}

/**
 * The chat instances the gateway spreads connections over: a configured list where names are
 * re-resolved periodically (that is how `docker compose --scale chat=3` is found), each instance
 * checked through its `/readyz`.
 */
export function createUpstreamPool(options: UpstreamPoolOptions): UpstreamPool {
  const lookup = options.lookup ?? lookupAll
  const checkTimeoutMs = options.checkTimeoutMs ?? 1000
  const log = options.logger
  let upstreams = new Map<string, Upstream>()
  let cursor = 0
  let resolveTimer: NodeJS.Timeout | undefined
  let checkTimer: NodeJS.Timeout | undefined

  async function expand(base: string): Promise<string[]> {
    const url = new URL(base)
    const host = url.hostname.replace(/^\[|\]$/g, '')
    if (isIP(host) || host === 'localhost') return [url.origin]
    try {
      return (await lookup(host)).map((address) => {
        const copy = new URL(url.origin)
        copy.hostname = isIP(address) === 6 ? `[${address}]` : address
        return copy.origin
      })
    } catch (err) {
      log.warn({ host, err: (err as Error).message }, 'could not resolve an upstream name')
      // Keep what it resolved to before rather than losing every instance over a DNS hiccup.
      return [...upstreams.keys()].filter((known) => new URL(known).port === url.port)
    }
  }

  async function resolveAll(): Promise<void> {
    const found = new Set((await Promise.all(options.urls.map(expand))).flat())
    const next = new Map<string, Upstream>()
    for (const url of found) next.set(url, upstreams.get(url) ?? { url, state: 'down' })
    const added = [...found].filter((url) => !upstreams.has(url))
    const removed = [...upstreams.keys()].filter((url) => !found.has(url))
    if (added.length || removed.length) log.info({ added, removed }, 'chat instances changed')
    upstreams = next
    await Promise.all(added.map((url) => check(next.get(url) as Upstream)))
  }

  async function check(upstream: Upstream): Promise<void> {
    let state: UpstreamState
    try {
      const response = await request(`${upstream.url}/readyz`, {
        signal: AbortSignal.timeout(checkTimeoutMs),
      })
      await response.body.dump()
      state = response.statusCode === 200 ? 'ready' : 'alive'
    } catch {
      state = 'down'
    }
    if (state !== upstream.state) log.info({ upstream: upstream.url, state }, 'chat instance state')
    upstream.state = state
  }

  function schedule() {
    resolveTimer = setInterval(() => {
      resolveAll().catch((err) => log.warn({ err }, 'resolving chat instances failed'))
    }, options.resolveEveryMs)
    checkTimer = setInterval(() => {
      void Promise.all([...upstreams.values()].map(check))
    }, options.checkEveryMs)
    resolveTimer.unref()
    checkTimer.unref()
  }

  function inTurn(state: UpstreamState): string | undefined {
    const candidates = [...upstreams.values()].filter((upstream) => upstream.state === state)
    if (candidates.length === 0) return undefined
    cursor = (cursor + 1) % candidates.length
    return (candidates[cursor] as Upstream).url
  }

  return {
    async start() {
      await resolveAll()
      await Promise.all([...upstreams.values()].map(check))
      schedule()
    },
    stop() {
      clearInterval(resolveTimer)
      clearInterval(checkTimer)
    },
    pick() {
      return inTurn('ready') ?? inTurn('alive')
    },
    markDown(url) {
      const upstream = upstreams.get(url)
      if (upstream && upstream.state !== 'down') {
        log.warn({ upstream: url }, 'chat instance failed a request; skipped until it answers')
        upstream.state = 'down'
      }
    },
    list() {
      return [...upstreams.values()].map((upstream) => ({ ...upstream }))
    },
  }
}
