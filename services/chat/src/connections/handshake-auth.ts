import type { Session, TokenVerifier } from '@finchat/sessions'
import { tokenFromAuthorization } from '@finchat/sessions'
import type { FastifyRequest } from 'fastify'

export type HandshakeResult =
  | { kind: 'authenticated'; session: Session; viaToken: boolean }
  | { kind: 'refused' }

export interface HandshakeAuthOptions {
  verify: TokenVerifier
  cookieName: string
  /** Origins allowed to use the session cookie; empty: only the server's own origin. */
  allowedOrigins: string[]
}

function originAllowed(request: FastifyRequest, allowed: string[]) {
  const origin = request.headers.origin
  if (!origin) return false
  if (allowed.length > 0) return allowed.includes(origin)
  try {
    const forwardedHost = request.headers['x-forwarded-host']
    const host =
      (Array.isArray(forwardedHost) ? forwardedHost[0] : forwardedHost) ?? request.headers.host
    return new URL(origin).host === host
  } catch {
    return false
  }
}

/**
 * Who is connecting, first match wins: the Authorization header, the `token` query parameter,
 * then the web UI's session cookie, which counts only from an allowed Origin (a page elsewhere
 * must not ride on the user's cookie).
 */
export function createHandshakeAuth(options: HandshakeAuthOptions) {
  return async (request: FastifyRequest): Promise<HandshakeResult> => {
    const header = tokenFromAuthorization(request.headers.authorization)
    let token: string | undefined
    let viaToken = true
    if (header.kind === 'token') token = header.token
    else if (header.kind === 'malformed') return { kind: 'refused' }
    else {
      const query = (request.query as Record<string, unknown>).token
      if (typeof query === 'string' && query !== '') token = query
      else {
        const cookie = request.cookies?.[options.cookieName]
        if (cookie && originAllowed(request, options.allowedOrigins)) {
          token = cookie
          viaToken = false
        }
      }
    }
    if (!token) return { kind: 'refused' }
    const session = await options.verify(token)
    return session ? { kind: 'authenticated', session, viaToken } : { kind: 'refused' }
  }
}
