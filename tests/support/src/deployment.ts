import { randomBytes } from 'node:crypto'
import { chatDb, createRoomsRepository, migrateChat } from '@finchat/chat'
import { createDatabase } from '@finchat/db'
import { createTestDatabase } from '@finchat/db/testing'
import { generateSigningKeys } from '@finchat/sessions'
import { Redis } from 'ioredis'
import type { Test } from 'tap'
import { type EdgeProxy, haproxyAvailable, spawnEdge } from './edge-proxy.js'
import { type ServiceProcess, spawnService } from './service-process.js'

export interface DeploymentOptions {
  chatInstances?: number
  /** Extra environment for every process. */
  env?: NodeJS.ProcessEnv
  /** A Redis of the test's own (REDIS_URL by default). */
  redisUrl?: string
  /** A PostgreSQL server of the test's own to make the database on (DATABASE_URL by default). */
  databaseUrl?: string
  /**
   * What holds port 8000: `haproxy` (the compose deployment's edge, in front of the gateway and
   * the chat instances; the default) or `gateway` (the Node gateway alone, as in development).
   */
  edge?: 'haproxy' | 'gateway'
}

/**
 * The deployment compose runs, each service its own process on a fresh PostgreSQL database and
 * a Redis key prefix of its own: auth, N chat instances, the gateway, and the edge (HAProxy with
 * compose's config) in front of them all; `url` and `wsUrl` are the edge's. The caller must
 * have checked that DATABASE_URL and REDIS_URL are set. Without Debian's haproxy the edge is
 * the gateway, except in CI, where that is an error: the suite must run the real path.
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
  let edge: EdgeProxy | undefined
  /** A chat instance; `port` brings one back where the gateway and the edge expect it. */
  const startChat = async (port = 0) => {
    const id = `chat-${++counter}`
    const chat = await spawnService(t, id, 'services/chat/src/main.ts', {
      ...shared,
      PORT: String(port),
      INSTANCE_ID: `${id}-${prefix}`,
      PRESENCE_HEARTBEAT_MS: '200',
      PRESENCE_DEAD_AFTER_MS: '1000',
    })
    // A new address: the edge is told, as Docker's DNS would tell it of a new instance.
    if (edge && port === 0) await edge.addChat(chat.url)
    return chat
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
  if ((options.edge ?? 'haproxy') === 'haproxy') {
    if (haproxyAvailable()) {
      edge = await spawnEdge(t, {
        gatewayUrl: gateway.url,
        chatUrls: chats.map((chat) => chat.url),
      })
    } else if (process.env.CI) {
      throw new Error("the deployment's edge needs Debian's haproxy (apt-get install haproxy)")
    } else {
      t.comment("haproxy not installed: the deployment's port 8000 is the Node gateway")
    }
  }
  const url = edge?.url ?? gateway.url
  const database = await createDatabase(testDb.config)
  t.teardown(() => database.close())
  await migrateChat(database.db)
  const rooms = createRoomsRepository(chatDb(database.db))

  return {
    auth,
    chats,
    gateway,
    /** HAProxy in front of everything, where it runs. */
    edge,
    /** Port 8000 as clients meet it: the edge, or the gateway where no edge runs. */
    url,
    prefix,
    keys,
    databaseUrl: testDb.config.url as string,
    wsUrl: `${url.replace('http', 'ws')}/ws/chat`,
    startChat,
    async createRooms(...names: string[]) {
      for (const name of names) await rooms.create(name)
    },
    /** The stock bot, through port 8000, reading commands from the stream. */
    startBot(env: NodeJS.ProcessEnv) {
      return spawnService(t, 'bot', 'services/bot/src/main.ts', {
        FINBOT_HOST: url,
        REDIS_URL: redisUrl,
        REDIS_PREFIX: prefix,
        ...env,
      })
    },
  }
}

export type Deployment = Awaited<ReturnType<typeof startDeployment>>
