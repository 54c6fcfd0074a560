import {
  loadConfig,
  parseTrustProxy,
  requireOutsideDevelopment,
  resolveDataDir,
  serviceConfigFields,
  type TrustProxy,
  trustProxyField,
} from '@finchat/kit'
import { sessionCookieField } from '@finchat/sessions'
import { type Static, Type } from '@sinclair/typebox'

export const AuthConfigSchema = Type.Object({
  ...serviceConfigFields(8001),
  /** PEM private key (Ed25519); required outside development, where one is made in DATA_DIR. */
  JWT_PRIVATE_KEY: Type.Optional(Type.String({ minLength: 40 })),
  JWT_PUBLIC_KEY: Type.Optional(Type.String({ minLength: 40 })),
  TOKEN_TTL_SECONDS: Type.Integer({ minimum: 60, default: 7 * 24 * 3600 }),
  PASSWORD_HASH_COST: Type.Integer({ minimum: 10, maximum: 20, default: 15 }),
  LOGIN_MAX_FAILURES_PER_USER: Type.Integer({ minimum: 1, default: 10 }),
  LOGIN_MAX_FAILURES_PER_IP: Type.Integer({ minimum: 1, default: 100 }),
  LOGIN_FAILURE_WINDOW_SECONDS: Type.Integer({ minimum: 1, default: 900 }),
  /**
   * Days an address stays known to an account after a login from it; from a known address the
   * account's failures count on a budget of their own (strangers cannot lock its owner out).
   * 0: off.
   */
  LOGIN_KNOWN_ADDRESS_DAYS: Type.Number({ minimum: 0, default: 30 }),
  /** Registrations one address may attempt per REGISTER_WINDOW_SECONDS. */
  REGISTER_MAX_PER_IP: Type.Integer({ minimum: 1, default: 20 }),
  REGISTER_WINDOW_SECONDS: Type.Integer({ minimum: 1, default: 3600 }),
  /** Password hashes computed at once, and how many may wait (past it: 503, Retry-After). */
  PASSWORD_HASH_CONCURRENCY: Type.Integer({ minimum: 1, default: 4 }),
  PASSWORD_HASH_MAX_WAITING: Type.Integer({ minimum: 2, default: 64 }),
  /** Whose X-Forwarded-For gives the client's address for the login limits (1 behind the edge). */
  TRUST_PROXY: trustProxyField,
  SESSION_COOKIE: sessionCookieField,
})

export type AuthConfig = Static<typeof AuthConfigSchema> & {
  /** TRUST_PROXY, parsed once at boot. */
  trustProxy: TrustProxy
}

export function loadAuthConfig(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  const config = loadConfig(AuthConfigSchema, env)
  requireOutsideDevelopment(config, ['JWT_PRIVATE_KEY', 'JWT_PUBLIC_KEY'])
  return {
    ...config,
    DATA_DIR: resolveDataDir(config.DATA_DIR, env),
    // Refused at boot, not at the first request: `true` and what is no address fail here.
    trustProxy: parseTrustProxy(config.TRUST_PROXY),
  }
}
