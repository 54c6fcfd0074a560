import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { readCredentials } from './credentials.js'
import { RevocationsUnknownError } from './revocation-list.js'
import type { Session } from './session.js'
import type { TokenVerifier } from './token-verifier.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the `authenticate` pre-handler on routes that require a session. */
    session: Session | null
  }
  interface FastifyInstance {
    /** Pre-handler: 401 unless the request carries a valid, unrevoked token. */
    authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void>
    /** Pre-handler: as `authenticate`, then 403 unless the user is an administrator. */
    requireAdmin(request: FastifyRequest, reply: FastifyReply): Promise<void>
  }
}

export const NOT_PROVIDED = 'Authentication credentials were not provided.'
export const INVALID_TOKEN = 'Invalid token.'
export const FORBIDDEN = 'You do not have permission to perform this action.'

export interface SessionAuthOptions {
  verify: TokenVerifier
  /** Extra check after the token itself verified, e.g. auth consulting its sessions table. */
  isSessionActive?: (session: Session) => Promise<boolean>
  /**
   * The web UI's session cookie, read when there is no Authorization header (the app must have
   * registered @fastify/cookie). A request that changes something counts it only from a page of
   * the same origin (`readCredentials`).
   */
  cookieName?: string
}

export const sessionAuthPlugin = fp<SessionAuthOptions>(
  async (app: FastifyInstance, options) => {
    app.decorateRequest('session', null)

    async function authenticate(request: FastifyRequest, reply: FastifyReply) {
      const header = readCredentials(request, {
        cookieName: options.cookieName,
        cookieOnSafeMethodsFromAnywhere: true,
      })
      if (header.kind === 'none') return reply.code(401).send({ detail: NOT_PROVIDED })
      if (header.kind === 'malformed') return reply.code(401).send({ detail: header.detail })
      let session: Session | null
      try {
        session = await options.verify(header.token)
      } catch (error) {
        if (!(error instanceof RevocationsUnknownError)) throw error
        // Auth reloads the list within a second or so: worth a retry, not an error page.
        return reply
          .code(503)
          .header('retry-after', '1')
          .send({ detail: 'Sessions are being reloaded; retry in a moment.' })
      }
      if (!session || (options.isSessionActive && !(await options.isSessionActive(session)))) {
        return reply.code(401).send({ detail: INVALID_TOKEN })
      }
      request.session = session
    }

    app.decorate('authenticate', authenticate)
    app.decorate('requireAdmin', async (request: FastifyRequest, reply: FastifyReply) => {
      await authenticate(request, reply)
      if (reply.sent) return
      if (!request.session?.isAdmin) return reply.code(403).send({ detail: FORBIDDEN })
    })
  },
  { name: 'finchat-session-auth', fastify: '5.x' },
)
