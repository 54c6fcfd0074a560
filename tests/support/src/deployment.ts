import { randomBytes } from 'node:crypto'
import { chatDb, createRoomAdmin, migrateChat } from '@finchat/chat'
import { createDatabase } from '@finchat/db'
import { createTestDatabase } from '@finchat/db/testing'
import { generateSigningKeys } from '@finchat/sessions'
import { Redis } from 'ioredis'
import type { Test } from 'tap'
import { type EdgeProxy, haproxyAvailable, startEdge } from './edge-proxy.js'
import { createRoomsOrFail } from './rooms.js'
import { type ServiceProcess, startServiceProcess } from './service-process.js'

export interface LaunchOptions {
  /** The PostgreSQL server the deployment's database is made on (dropped at stop). */
  databaseUrl: string
  redisUrl: string
  chatInstances?: number
  /** Extra environment for every service process. */
  env?: NodeJS.ProcessEnv
  /** Extra environment for the chat instances only. */
  chatEnv?: NodeJS.ProcessEnv
  /** Extra environment for the gateway only. */
  gatewayEnv?: NodeJS.ProcessEnv
  /** Run each service's build (`dist/main.js`, as its image does) instead of its sources. */
  scripts?: (service: 'auth' | 'chat' | 'gateway') => string
  /** Node.js flags per service process (the bench's inspector, `--cpu-prof`). */
  nodeArgs?: (service: string) => string[]
  /** The Node gateway (`services/gateway`); default true. */
  gateway?: boolean
  /** HAProxy with compose's config in front of the gateway and the chats; needs the gateway. */
  edge?: boolean
  /** Rooms the deployment starts with. */
  rooms?: string[]
  /** Key prefix of the run: `test` or `bench`. */
  prefixTag?: string
}

const sourceScript = (service: string) => `services/${service}/src/main.ts`

/**
 * The deployment compose runs, each service its own process: auth, N chat instances, the
 * gateway and the edge, on a fresh PostgreSQL database and a Redis key prefix of its own. The
 * cluster suite (`startDeployment`) and the bench's cluster targets both start it here.
 */
export async function launchDeployment(options: LaunchOptions) {
  const { redisUrl } = options
  const scripts = options.scripts ?? sourceScript
  const database = await createTestDatabase({ DATABASE_URL: options.databaseUrl })
  const prefix = `${options.prefixTag ?? 'test'}:${randomBytes(4).toString('hex')}:`
  const keys = generateSigningKeys()
  const shared = {
    DATABASE_URL: database.config.url,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    JWT_PUBLIC_KEY: keys.publicKey,
    ...options.env,
  }
  const processes: ServiceProcess[] = []
  const start = async (name: string, service: string, env: NodeJS.ProcessEnv) => {
    const started = await startServiceProcess(name, scripts(service as 'auth'), env, {
      nodeArgs: options.nodeArgs?.(service) ?? [],
    })
    processes.push(started)
    return started
  }
  let edge: EdgeProxy | undefined
  let stopped: Promise<void> | undefined
  const stop = () => {
    stopped ??= (async () => {
      await edge?.stop()
      await Promise.all(processes.map((service) => service.stop('SIGKILL')))
      // The caller may have stopped its own Redis by now: try once, never wait for it.
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
      await database.drop()
    })()
    return stopped
  }

  try {
    const auth = await start('auth', 'auth', {
      ...shared,
      JWT_PRIVATE_KEY: keys.privateKey,
      PASSWORD_HASH_COST: '10',
      // The edge in front sets X-Forwarded-For to the client's address.
      TRUST_PROXY: '1',
    })
    let counter = 0
    /** A chat instance; `port` brings one back where the gateway and the edge expect it. */
    const startChat = async (port = 0) => {
      const id = `chat-${++counter}`
      const chat = await start(id, 'chat', {
        ...shared,
        ...options.chatEnv,
        PORT: String(port),
        INSTANCE_ID: `${id}-${prefix}`,
      })
      // A new address: the edge is told, as Docker's DNS would tell it of a new instance.
      if (edge && port === 0) await edge.addChat(chat.url)
      return chat
    }
    // One after the other: the first one migrates the schema.
    const chats: ServiceProcess[] = []
    for (let i = 0; i < (options.chatInstances ?? 2); i++) chats.push(await startChat())
    const gateway =
      options.gateway === false
        ? undefined
        : await start('gateway', 'gateway', {
            ...options.env,
            AUTH_URL: auth.url,
            CHAT_URLS: chats.map((chat) => chat.url).join(','),
            ...options.gatewayEnv,
            // The edge in front connects from 127.0.0.1; clients of the tests may use other
            // loopback addresses, whose X-Forwarded-* are not believed.
            TRUST_PROXY: '127.0.0.1',
          })
    if (options.edge && gateway) {
      edge = await startEdge({ gatewayUrl: gateway.url, chatUrls: chats.map((chat) => chat.url) })
    }
    const db = await createDatabase(database.config)
    const rooms = createRoomAdmin({ db: chatDb(db.db) })
    const createRooms = (...names: string[]) => createRoomsOrFail(rooms, names)
    try {
      await migrateChat(db.db)
      await createRooms(...(options.rooms ?? []))
    } catch (error) {
      await db.close()
      throw error
    }
    /** Port 8000 as clients meet it: the edge, else the gateway, else the first chat. */
    const url = edge?.url ?? gateway?.url ?? (chats[0] as ServiceProcess).url
    return {
      auth,
      chats,
      gateway,
      edge,
      url,
      wsUrl: `${url.replace('http', 'ws')}/ws/chat`,
      prefix,
      keys,
      databaseUrl: database.config.url as string,
      startChat,
      rooms,
      createRooms,
      /**
       * How many sessions of the deployment's database have been idle at least `ms` while
       * holding advisory locks: a chat writer frozen between two statements, room locks held.
       */
      async idleLockHolders(ms: number): Promise<number> {
        const rows = await db.db
          .withTables<PgCatalog>()
          .selectFrom('pg_catalog.pg_locks as l')
          .innerJoin('pg_catalog.pg_stat_activity as a', 'a.pid', 'l.pid')
          .select('l.pid')
          .distinct()
          .where('l.locktype', '=', 'advisory')
          .where('l.granted', '=', true)
          .where('a.state', '=', 'idle')
          .where('a.state_change', '<', new Date(Date.now() - ms))
          .where('a.datname', '=', new URL(database.config.url as string).pathname.slice(1))
          .execute()
        return rows.length
      },
      async stop() {
        await db.close()
        await stop()
      },
    }
  } catch (error) {
    await stop().catch(() => {})
    throw error
  }
}

/** The parts of PostgreSQL's catalog `idleLockHolders` reads. */
type PgCatalog = {
  'pg_catalog.pg_locks': { pid: number; locktype: string; granted: boolean }
  'pg_catalog.pg_stat_activity': { pid: number; state: string; state_change: Date; datname: string }
}

export type Launched = Awaited<ReturnType<typeof launchDeployment>>

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
 * `launchDeployment` for a test: from the services' sources, stopped at teardown, each
 * process's log printed when the test failed. The caller must have checked that DATABASE_URL
 * and REDIS_URL are set. Without Debian's haproxy port 8000 is the gateway, except in CI, where
 * that is an error: the suite must run the real path.
 */
export async function startDeployment(t: Test, options: DeploymentOptions = {}) {
  let edge = (options.edge ?? 'haproxy') === 'haproxy'
  if (edge && !haproxyAvailable()) {
    if (process.env.CI) {
      throw new Error("the deployment's edge needs Debian's haproxy (apt-get install haproxy)")
    }
    t.comment("haproxy not installed: the deployment's port 8000 is the Node gateway")
    edge = false
  }
  const redisUrl = options.redisUrl ?? (process.env.REDIS_URL as string)
  const deployment = await launchDeployment({
    databaseUrl: options.databaseUrl ?? (process.env.DATABASE_URL as string),
    redisUrl,
    chatInstances: options.chatInstances,
    // The tests' clients all come from loopback: registration is limited in auth's own tests.
    env: { REGISTER_MAX_PER_IP: '100000', ...options.env },
    // Quick enough for a test to see an instance die and the gateway notice.
    chatEnv: { PRESENCE_HEARTBEAT_MS: '200', PRESENCE_DEAD_AFTER_MS: '1000' },
    gatewayEnv: { CHAT_CHECK_INTERVAL_MS: '200' },
    edge,
  })
  t.teardown(async () => {
    if (!t.passing()) {
      const all = [deployment.auth, ...deployment.chats, deployment.gateway]
      for (const [i, service] of all.entries()) {
        if (service) t.comment(`process ${i} log:\n${service.logs.join('\n')}`)
      }
      if (deployment.edge) t.comment(`edge (haproxy) log:\n${deployment.edge.logs.join('\n')}`)
    }
    await deployment.stop()
  })
  return {
    ...deployment,
    // Always started here: port 8000 needs it, behind the edge or alone.
    gateway: deployment.gateway as ServiceProcess,
    /** The stock bot, through port 8000, reading commands from the stream. */
    async startBot(env: NodeJS.ProcessEnv) {
      const bot = await startServiceProcess('bot', sourceScript('bot'), {
        FINBOT_HOST: deployment.url,
        REDIS_URL: redisUrl,
        REDIS_PREFIX: deployment.prefix,
        ...env,
      })
      t.teardown(async () => {
        if (!t.passing()) t.comment(`bot log:\n${bot.logs.join('\n')}`)
        await bot.stop('SIGKILL')
      })
      return bot
    },
  }
}

export type Deployment = Awaited<ReturnType<typeof startDeployment>>
