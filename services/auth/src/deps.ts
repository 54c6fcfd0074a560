import { join } from 'node:path'
import type { Bus } from '@finchat/bus'
import type { Database } from '@finchat/db'
import { createRevocationList, loadOrCreateKeyFiles, type SigningKeys } from '@finchat/sessions'
import type { Redis } from 'ioredis'
import type { AuthOptions } from './app.js'
import type { AuthConfig } from './config.js'
import { authDb } from './db/migrate.js'
import { createMemoryLoginLimiter, createRedisLoginLimiter } from './limits/login-limiter.js'
import {
  createMemoryRegistrationLimiter,
  createRedisRegistrationLimiter,
} from './limits/registration-limiter.js'
import { createBoundedHasher, createScryptHasher } from './users/password-hasher.js'

/** Keys from the environment, or (development only, as config enforces) from the data directory. */
export async function signingKeys(config: AuthConfig): Promise<SigningKeys> {
  if (config.JWT_PRIVATE_KEY && config.JWT_PUBLIC_KEY) {
    return { privateKey: config.JWT_PRIVATE_KEY, publicKey: config.JWT_PUBLIC_KEY }
  }
  return loadOrCreateKeyFiles(join(config.DATA_DIR, 'keys'))
}

/** Everything buildAuth needs, from the shared infrastructure of the process. */
export async function authOptions(
  config: AuthConfig,
  infra: { database: Database; bus: Bus; redis?: Redis; keys: SigningKeys },
): Promise<AuthOptions> {
  const limits = {
    maxFailuresPerUser: config.LOGIN_MAX_FAILURES_PER_USER,
    maxFailuresPerIp: config.LOGIN_MAX_FAILURES_PER_IP,
    windowSeconds: config.LOGIN_FAILURE_WINDOW_SECONDS,
    knownAddressSeconds: Math.round(config.LOGIN_KNOWN_ADDRESS_DAYS * 86_400),
  }
  const registrations = {
    maxPerIp: config.REGISTER_MAX_PER_IP,
    windowSeconds: config.REGISTER_WINDOW_SECONDS,
  }
  return {
    db: authDb(infra.database.db),
    bus: infra.bus,
    keys: infra.keys,
    revocations: createRevocationList(infra.redis, config.REDIS_PREFIX),
    loginLimiter: infra.redis
      ? createRedisLoginLimiter(infra.redis, limits, config.REDIS_PREFIX)
      : createMemoryLoginLimiter(limits),
    registrationLimiter: infra.redis
      ? createRedisRegistrationLimiter(infra.redis, registrations, config.REDIS_PREFIX)
      : createMemoryRegistrationLimiter(registrations),
    passwords: createBoundedHasher(createScryptHasher(config.PASSWORD_HASH_COST), {
      concurrency: config.PASSWORD_HASH_CONCURRENCY,
      maxWaiting: config.PASSWORD_HASH_MAX_WAITING,
    }),
    tokenTtlSeconds: config.TOKEN_TTL_SECONDS,
    cookieName: config.SESSION_COOKIE,
  }
}
