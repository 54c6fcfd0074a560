import { randomBytes } from 'node:crypto'
import { chatDb, createRoomsRepository, migrateChat } from '@finchat/chat'
import { createDatabase } from '@finchat/db'
import { createTestDatabase } from '@finchat/db/testing'
import { generateSigningKeys } from '@finchat/sessions'
import { Redis } from 'ioredis'
import type { Test } from 'tap'
import { type ServiceProcess, spawnService } from './service-process.js'

export interface DeploymentOptions {
  chatInstances?: number
  /** Extra environment for every process. */
  env?: NodeJS.ProcessEnv
  /** A Redis of the test's own (REDIS_URL by default). */
  redisUrl?: string
  /** A PostgreSQL server of the test's own to make the database on (DATABASE_URL by default). */
  databaseUrl?: string
}

/**
 * The deployment compose runs, each service its own process on a fresh PostgreSQL database and
 * a Redis key prefix of its own: auth, N chat instances and the gateway in front of them. The
 * caller must have checked that DATABASE_URL and REDIS_URL are set.
 */
export async function startDeployment(t: Test, options: DeploymentOptions = {}) {
  const redisUrl = options.redisUrl ?? (process.env.REDIS_URL as string)
  const testDb = await createTestDatabase(
    options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : process.env,
  )
  t.teardown(() => testDb.drop())
  const prefix = `test:${randomBytes(4).toString('hex')}:`
  t.teardown(async () => {
    // The test may have stopped its own Redis by now: try once, never wait for it.
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 0, retryStrategy: () => null })
    redis.on('error', () => {})
    try {
      const stale = await redis.keys(`${prefix}*`)
      if (stale.length) await redis.del(...stale)
    } catch {
      // nothing to clean where nothing runs
    } finally {
      redis.disconnect()
    }
  })
  const keys = generateSigningKeys()
  const shared = {
    DATABASE_URL: testDb.config.url,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    JWT_PUBLIC_KEY: keys.publicKey,
    ...options.env,
  }
  const auth = await spawnService(t, 'auth', 'services/auth/src/main.ts', {
    ...shared,
    JWT_PRIVATE_KEY: keys.privateKey,
    PASSWORD_HASH_COST: '10',
    // The gateway in front sets X-Forwarded-For to the client's address.
    TRUST_PROXY: '1',
  })
  let counter = 0
  /** A chat instance; `port` brings one back where the gateway expects it. */
  const startChat = (port = 0) => {
    const id = `chat-${++counter}`
    return spawnService(t, id, 'services/chat/src/main.ts', {
      ...shared,
      PORT: String(port),
      INSTANCE_ID: `${id}-${prefix}`,
      PRESENCE_HEARTBEAT_MS: '200',
      PRESENCE_DEAD_AFTER_MS: '1000',
    })
  }
  // One after the other: the first one migrates the schema.
  const chats: ServiceProcess[] = []
  for (let i = 0; i < (options.chatInstances ?? 2); i++) chats.push(await startChat())
  const gateway = await spawnService(t, 'gateway', 'services/gateway/src/main.ts', {
    ...options.env,
    AUTH_URL: auth.url,
    CHAT_URLS: chats.map((chat) => chat.url).join(','),
    CHAT_CHECK_INTERVAL_MS: '200',
    // The edge in front connects from 127.0.0.1; clients of the tests may use other loopback
    // addresses, whose X-Forwarded-* are not believed.
    TRUST_PROXY: '127.0.0.1',
  })
  const database = await createDatabase(testDb.config)
  t.teardown(() => database.close())
  await migrateChat(database.db)
  const rooms = createRoomsRepository(chatDb(database.db))

  return {
    auth,
    chats,
    gateway,
    prefix,
    keys,
    databaseUrl: testDb.config.url as string,
    wsUrl: `${gateway.url.replace('http', 'ws')}/ws/chat`,
    startChat,
    async createRooms(...names: string[]) {
      for (const name of names) await rooms.create(name)
    },
    /** The stock bot, through the gateway, reading commands from the stream. */
    startBot(env: NodeJS.ProcessEnv) {
      return spawnService(t, 'bot', 'services/bot/src/main.ts', {
        FINBOT_HOST: gateway.url,
        REDIS_URL: redisUrl,
        REDIS_PREFIX: prefix,
        ...env,
      })
    },
  }
}

export type Deployment = Awaited<ReturnType<typeof startDeployment>>
