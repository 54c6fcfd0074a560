import type { FastifyRequest } from 'fastify'
import { tokenFromAuthorization } from './authorization-header.js'

/** Where a request's token came from, or why it has none. */
export type Credentials =
  | { kind: 'none' }
  | { kind: 'malformed'; detail: string }
  | { kind: 'token'; token: string; from: 'header' | 'query' | 'cookie' }

export interface CredentialRules {
  /** The web UI's session cookie; unset: cookies are not read. */
  cookieName?: string
  /** Origins whose pages may use the cookie; empty: only the server's own origin. */
  allowedOrigins?: readonly string[]
  /** Whether `?token=` counts (the websocket handshake: browsers cannot set its headers). */
  queryToken?: boolean
  /**
   * Whether the cookie counts on a GET/HEAD/OPTIONS from any page. REST reads may (they change
   * nothing); a websocket handshake is a GET that opens a session, so it must not.
   */
  cookieOnSafeMethodsFromAnywhere?: boolean
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value)

/**
 * Whether the request's Origin may use the session cookie: one of `allowed`, or, when none is
 * listed, the host the request was sent to (the edge's, as X-Forwarded-Host says behind it).
 * Browsers attach cookies to requests other sites make; the Origin says who made it.
 */
export function originAllowed(request: FastifyRequest, allowed: readonly string[] = []): boolean {
  const origin = request.headers.origin
  if (!origin) return false
  if (allowed.length > 0) return allowed.includes(origin)
  const host = first(request.headers['x-forwarded-host']) ?? request.headers.host
  try {
    return new URL(origin).host === host
  } catch {
    return false
  }
}

/**
 * A request's token, first match wins: the Authorization header (`Token` or `Bearer`), then
 * `?token=` where allowed, then the session cookie, counted only from a page allowed to use it.
 * The one reader for REST (`sessionAuthPlugin`) and the websocket handshake.
 */
export function readCredentials(request: FastifyRequest, rules: CredentialRules): Credentials {
  const header = tokenFromAuthorization(request.headers.authorization)
  if (header.kind === 'malformed') return header
  if (header.kind === 'token') return { ...header, from: 'header' }
  if (rules.queryToken) {
    const query = (request.query as Record<string, unknown> | undefined)?.token
    if (typeof query === 'string' && query !== '')
      return { kind: 'token', token: query, from: 'query' }
  }
  if (!rules.cookieName) return { kind: 'none' }
  const cookies = (request as { cookies?: Record<string, string | undefined> }).cookies
  const token = cookies?.[rules.cookieName]
  if (!token) return { kind: 'none' }
  const fromAnywhere = rules.cookieOnSafeMethodsFromAnywhere && SAFE_METHODS.has(request.method)
  if (!fromAnywhere && !originAllowed(request, rules.allowedOrigins)) return { kind: 'none' }
  return { kind: 'token', token, from: 'cookie' }
}
