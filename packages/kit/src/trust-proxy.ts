import type { IncomingMessage } from 'node:http'
import proxyAddr from '@fastify/proxy-addr'
import { ConfigError } from './config.js'

/** Which peers' X-Forwarded-* headers are believed: `hop` 0 is the socket's own peer. */
export type TrustProxy = false | ((address: string, hop: number) => boolean)

/**
 * `TRUST_PROXY`: `false` (or `0`, or unset) believes no X-Forwarded-For: the client is the
 * socket's peer. A number N believes the N proxies nearest to the service, for a service that
 * can be reached only through them (each of ours sets the header rather than appending to it).
 * A comma-separated list of addresses, CIDR ranges or `loopback`, `linklocal`, `uniquelocal`
 * believes those peers only. `true` is refused: it would take whatever a client writes there.
 */
export function parseTrustProxy(value: string | undefined, name = 'TRUST_PROXY'): TrustProxy {
  const text = (value ?? '').trim()
  if (text === '' || text === 'false' || text === '0') return false
  if (text === 'true') {
    throw new ConfigError(
      `invalid configuration: ${name}=true would believe any client's X-Forwarded-For; ` +
        'give the number of proxies in front of the service (e.g. 1) or their addresses',
    )
  }
  if (/^\d+$/.test(text)) {
    const hops = Number(text)
    return (_address, hop) => hop < hops
  }
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
  try {
    return proxyAddr.compile(entries)
  } catch (error) {
    throw new ConfigError(
      `invalid configuration: ${name} must be false, a number of proxies, or addresses ` +
        `(${(error as Error).message})`,
    )
  }
}

/** The client's address as Fastify's `request.ip` gives it, for a request Fastify never saw. */
export function clientAddress(request: IncomingMessage, trust: TrustProxy): string {
  const peer = request.socket.remoteAddress ?? ''
  if (!trust) return peer
  return proxyAddr(request, trust)
}
