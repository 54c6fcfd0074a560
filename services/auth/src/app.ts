import cookie from '@fastify/cookie'
import formbody from '@fastify/formbody'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Bus } from '@finchat/bus'
import {
  createTokenVerifier,
  DEFAULT_SESSION_COOKIE,
  type RevocationList,
  type SigningKeys,
  sessionAuthPlugin,
  tokenIssuerPlugin,
} from '@finchat/sessions'
import type { AuthDb } from './db/schema.js'
import type { LoginLimiter } from './login/login-limiter.js'
import { accountRoutes } from './routes/account.routes.js'
import { adminUserRoutes } from './routes/admin-users.routes.js'
import {
  createSessionsRepository,
  type SessionsRepository,
} from './sessions/sessions.repository.js'
import type { PasswordHasher } from './users/password-hasher.js'
import { createUsersRepository, type UsersRepository } from './users/users.repository.js'

export interface AuthOptions {
  db: AuthDb
  bus: Bus
  revocations: RevocationList
  loginLimiter: LoginLimiter
  passwords: PasswordHasher
  keys: SigningKeys
  tokenTtlSeconds: number
  /** The web UI's session cookie (shared with chat, which accepts it on the websocket). */
  cookieName?: string
  clock?: () => Date
}

export interface AuthDeps extends Required<AuthOptions> {
  users: UsersRepository
  sessions: SessionsRepository
  /** Verified against when the username is unknown, to keep timing uniform. */
  decoyHash: string
}

/** The auth service as a plugin: main, standalone and tests mount it with their own deps. */
export function buildAuth(options: AuthOptions): FastifyPluginAsyncTypebox {
  return async (app) => {
    const deps: AuthDeps = {
      clock: () => new Date(),
      cookieName: DEFAULT_SESSION_COOKIE,
      ...options,
      users: createUsersRepository(options.db),
      sessions: createSessionsRepository(options.db),
      decoyHash: await options.passwords.hash('decoy password, never valid'),
    }
    await app.register(formbody)
    await app.register(cookie)
    await app.register(tokenIssuerPlugin, {
      keys: options.keys,
      ttlSeconds: options.tokenTtlSeconds,
    })
    await app.register(sessionAuthPlugin, {
      verify: createTokenVerifier({
        publicKey: options.keys.publicKey,
        revocations: options.revocations,
      }),
      // Auth's own table is the source of truth, even if the shared list lost an entry.
      isSessionActive: (session) => deps.sessions.isActive(session.sessionId, deps.clock()),
      cookieName: deps.cookieName,
    })
    await app.register(accountRoutes, deps)
    await app.register(adminUserRoutes, deps)
  }
}
