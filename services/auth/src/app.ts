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
import { createAccounts } from './accounts/accounts.service.js'
import type { AuthDb } from './db/schema.js'
import type { LoginLimiter } from './limits/login-limiter.js'
import type { RegistrationLimiter } from './limits/registration-limiter.js'
import { accountRoutes } from './routes/account.routes.js'
import { adminUserRoutes } from './routes/admin-users.routes.js'
import { createSessionService } from './sessions/session.service.js'
import { createRevocationRelay } from './sessions/session-revocations.js'
import type { PasswordHasher } from './users/password-hasher.js'
import { createUsersRepository } from './users/users.repository.js'

export interface AuthOptions {
  db: AuthDb
  bus: Bus
  revocations: RevocationList
  loginLimiter: LoginLimiter
  /** Registrations per address; absent: unlimited. */
  registrationLimiter?: RegistrationLimiter
  passwords: PasswordHasher
  keys: SigningKeys
  tokenTtlSeconds: number
  /** The web UI's session cookie (shared with chat, which accepts it on the websocket). */
  cookieName?: string
  clock?: () => Date
}

/** The auth service as a plugin: main, standalone and tests mount it with their own deps. */
export function buildAuth(options: AuthOptions): FastifyPluginAsyncTypebox {
  return async (app) => {
    const { keys, tokenTtlSeconds, cookieName = DEFAULT_SESSION_COOKIE } = options
    await app.register(formbody)
    await app.register(cookie)
    await app.register(tokenIssuerPlugin, { keys, ttlSeconds: tokenTtlSeconds })

    const relay = createRevocationRelay({
      db: options.db,
      bus: options.bus,
      revocations: options.revocations,
      log: app.log,
      clock: options.clock,
    })
    // Before the first request: a list that lost its entries is loaded again first.
    await relay.start()
    app.addHook('onClose', () => relay.stop())
    const accounts = createAccounts({ ...options, announce: relay.flush })
    const sessions = createSessionService({
      ...options,
      announce: relay.flush,
      issue: (grant) => app.issueSessionToken(grant),
    })
    await app.register(sessionAuthPlugin, {
      // The sessions table is checked on every request (isSessionActive): auth needs no copy of
      // it, and keeps answering (logouts included) while Redis is down.
      verify: createTokenVerifier({ publicKey: keys.publicKey }),
      isSessionActive: sessions.isActive,
      cookieName,
    })
    await app.register(accountRoutes, {
      accounts,
      sessions,
      registrations: options.registrationLimiter,
      users: createUsersRepository(options.db),
      cookieName,
      tokenTtlSeconds,
    })
    await app.register(adminUserRoutes, { accounts })
  }
}
