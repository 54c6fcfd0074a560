import { readCredentials, type Session, type TokenVerifier } from '@finchat/sessions'
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

/**
 * Who is connecting: the Authorization header, the `token` query parameter, then the web UI's
 * session cookie, which counts only from an allowed Origin (`readCredentials`).
 */
export function createHandshakeAuth(options: HandshakeAuthOptions) {
  const rules = {
    cookieName: options.cookieName,
    allowedOrigins: options.allowedOrigins,
    queryToken: true,
  }
  return async (request: FastifyRequest): Promise<HandshakeResult> => {
    const credentials = readCredentials(request, rules)
    if (credentials.kind !== 'token') return { kind: 'refused' }
    const session = await options.verify(credentials.token)
    if (!session) return { kind: 'refused' }
    return { kind: 'authenticated', session, viaToken: credentials.from !== 'cookie' }
  }
}
