import { randomBytes } from 'node:crypto'
import { type Bus, createBus } from '@finchat/bus'
import { createDatabase } from '@finchat/db'
import { createTestDatabase } from '@finchat/db/testing'
import { createServer } from '@finchat/kit'
import {
  createMemoryRevocationList,
  createRedisRevocationList,
  generateSigningKeys,
  type RevocationList,
  type SigningKeys,
  tokenIssuerPlugin,
} from '@finchat/sessions'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import type { Test } from 'tap'
import { type Accounts, createAccounts } from '../../src/accounts/accounts.service.js'
import { buildAuth } from '../../src/app.js'
import { authDb, migrateAuth } from '../../src/db/migrate.js'
import {
  createMemoryLoginLimiter,
  createRedisLoginLimiter,
  type LoginLimits,
} from '../../src/login/login-limiter.js'
import { createSessionService, type SessionService } from '../../src/sessions/session.service.js'
import { createScryptHasher } from '../../src/users/password-hasher.js'

export interface AuthServer {
  app: Awaited<ReturnType<typeof createServer>>
  bus: Bus
  keys: SigningKeys
  revocations: RevocationList
  /** A second view of the revocation list, as another process would have it. */
  otherProcessRevocations: RevocationList
  prefix: string
  /** The use cases on the server's database and Redis, as the CLI or the standalone call them. */
  accounts: Accounts
  sessions: SessionService
}

/**
 * The auth service as tests meet it: on real PostgreSQL and Redis when DATABASE_URL and
 * REDIS_URL are set, on PGlite and in-process otherwise. Torn down with the test.
 */
export async function startAuth(t: Test, limits?: Partial<LoginLimits>): Promise<AuthServer> {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.drop())
  const database = await createDatabase(testDb.config)
  t.teardown(() => database.close())
  await migrateAuth(database.db)

  const prefix = `test:${randomBytes(4).toString('hex')}:`
  const redisUrl = process.env.REDIS_URL
  const bus = createBus({ redisUrl, prefix })
  t.teardown(() => bus.close())
  const loginLimits: LoginLimits = {
    maxFailuresPerUser: 5,
    maxFailuresPerIp: 50,
    windowSeconds: 60,
    ...limits,
  }
  let revocations: RevocationList
  let otherProcessRevocations: RevocationList
  let loginLimiter = createMemoryLoginLimiter(loginLimits)
  if (redisUrl) {
    const redis = new Redis(redisUrl)
    const other = new Redis(redisUrl)
    t.teardown(async () => {
      const keys = await redis.keys(`${prefix}*`)
      if (keys.length) await redis.del(...keys)
      redis.disconnect()
      other.disconnect()
    })
    revocations = createRedisRevocationList(redis, prefix)
    otherProcessRevocations = createRedisRevocationList(other, prefix)
    loginLimiter = createRedisLoginLimiter(redis, loginLimits, prefix)
  } else {
    revocations = createMemoryRevocationList()
    otherProcessRevocations = revocations
  }

  const keys = generateSigningKeys()
  const tokenTtlSeconds = 3600
  const options = {
    db: authDb(database.db),
    bus,
    keys,
    revocations,
    loginLimiter,
    // The lowest cost keeps tests quick; the hashing path is the one production uses.
    passwords: createScryptHasher(10),
    tokenTtlSeconds,
  }
  const app = await createServer({ logger: false })
  t.teardown(() => app.close())
  await app.register(buildAuth(options))
  await app.ready()

  // Another process's issuer with the same keys: its tokens are accepted by `app`.
  const issuer = Fastify()
  t.teardown(() => issuer.close())
  await issuer.register(tokenIssuerPlugin, { keys, ttlSeconds: tokenTtlSeconds })
  await issuer.ready()
  return {
    app,
    bus,
    keys,
    revocations,
    otherProcessRevocations,
    prefix,
    accounts: createAccounts(options),
    sessions: createSessionService({ ...options, issue: issuer.issueSessionToken }),
  }
}

export const strongPassword = 'correct-horse-battery'

export async function registerAndLogin(app: AuthServer['app'], username: string) {
  const registered = await app.inject({
    method: 'POST',
    url: '/register',
    payload: { username, email: `${username}@example.com`, password: strongPassword },
  })
  if (registered.statusCode !== 201) throw new Error(`register failed: ${registered.body}`)
  return login(app, username)
}

export async function login(app: AuthServer['app'], username: string, password = strongPassword) {
  const response = await app.inject({
    method: 'POST',
    url: '/login',
    payload: { username, password },
  })
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.body}`)
  return response.json<{ token: string }>().token
}

/** GET /profile with a token: what a client sees of its session. */
export function profile(app: AuthServer['app'], token: string) {
  return app.inject({
    method: 'GET',
    url: '/profile',
    headers: { authorization: `Token ${token}` },
  })
}
