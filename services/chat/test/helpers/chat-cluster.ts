import { randomBytes } from 'node:crypto'
import { authDb, buildAuth, createScryptHasher, migrateAuth } from '@finchat/auth'
import { type Bus, createBus } from '@finchat/bus'
import { createDatabase, type Database } from '@finchat/db'
import { createTestDatabase } from '@finchat/db/testing'
import { createServer } from '@finchat/kit'
import { ChatClient, type ChatConnectOptions } from '@finchat/protocol/client'
import {
  createMemoryRevocationList,
  createRedisRevocationList,
  generateSigningKeys,
  type RevocationList,
} from '@finchat/sessions'
import { Redis } from 'ioredis'
import type { Test } from 'tap'
import { buildChat, type ChatLimits } from '../../src/app.js'
import { chatDb, migrateChat } from '../../src/db/migrate.js'
import { createRoomsRepository } from '../../src/domain/rooms.repository.js'
import {
  createMemoryPresence,
  createMemoryPresenceState,
} from '../../src/presence/memory-presence.js'
import type { Presence } from '../../src/presence/presence.js'
import { createRedisPresence, createRoomPresence } from '../../src/presence/redis-presence.js'

export const PASSWORD = 'correct-horse-battery'
export const redisUrl = process.env.REDIS_URL

export interface ClusterOptions {
  instances?: number
  limits?: Partial<ChatLimits>
  presenceTimings?: { heartbeatMs: number; deadAfterMs: number }
}

export interface ChatInstance {
  url: string
  httpUrl: string
  instanceId: string
  app: Awaited<ReturnType<typeof createServer>>
  /** A graceful stop, as SIGTERM does it. */
  stop(): Promise<void>
}

/**
 * Auth and N chat instances on one database and one bus, as a test sees a deployment: on real
 * PostgreSQL and Redis when DATABASE_URL and REDIS_URL are set (each instance then has its own
 * Redis connections, like separate processes), on PGlite and the in-process bus otherwise.
 */
export async function startCluster(t: Test, options: ClusterOptions = {}) {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.drop())
  const database = await createDatabase(testDb.config)
  t.teardown(() => database.close())
  await migrateAuth(database.db)
  await migrateChat(database.db)

  const prefix = `test:${randomBytes(4).toString('hex')}:`
  const keys = generateSigningKeys()
  const memoryBus = redisUrl ? undefined : createBus()
  const memoryRevocations = createMemoryRevocationList()
  const memoryPresence = createMemoryPresenceState()
  const redisClients: Redis[] = []
  const newRedis = () => {
    const redis = new Redis(redisUrl as string)
    redis.on('error', () => {})
    redisClients.push(redis)
    return redis
  }
  const busFor = (): Bus => memoryBus ?? createBus({ redisUrl, prefix, logger: quietLogger })
  const revocationsFor = (): RevocationList =>
    redisUrl ? createRedisRevocationList(newRedis(), prefix) : memoryRevocations

  const authBus = busFor()
  const authApp = await createServer({ logger: false })
  await authApp.register(
    buildAuth({
      db: authDb(database.db),
      bus: authBus,
      keys,
      revocations: revocationsFor(),
      loginLimiter: { retryAfter: async () => null, recordFailure: async () => {} },
      passwords: createScryptHasher(10),
      tokenTtlSeconds: 3600,
    }),
  )
  await authApp.ready()

  const instances: ChatInstance[] = []
  const busses: Bus[] = [authBus]
  let counter = 0

  async function addInstance(): Promise<ChatInstance> {
    const instanceId = `chat-${++counter}-${prefix}`
    const bus = busFor()
    busses.push(bus)
    const presence: Presence = redisUrl
      ? createRedisPresence({
          redis: newRedis(),
          instanceId,
          prefix,
          heartbeatMs: options.presenceTimings?.heartbeatMs ?? 200,
          deadAfterMs: options.presenceTimings?.deadAfterMs ?? 1000,
        })
      : createMemoryPresence(instanceId, memoryPresence)
    const app = await createServer({ logger: false })
    await app.register(
      buildChat({
        db: chatDb(database.db),
        bus,
        presence,
        revocations: revocationsFor(),
        publicKey: keys.publicKey,
        limits: options.limits,
      }),
    )
    const address = await app.listen({ port: 0, host: '127.0.0.1' })
    let stopped = false
    const instance: ChatInstance = {
      url: `${address.replace('http', 'ws')}/ws/chat`,
      httpUrl: address,
      instanceId,
      app,
      async stop() {
        if (stopped) return
        stopped = true
        await app.close()
      },
    }
    instances.push(instance)
    return instance
  }

  for (let i = 0; i < (options.instances ?? 1); i++) await addInstance()

  t.teardown(async () => {
    for (const instance of instances) await instance.stop()
    await authApp.close()
    for (const bus of new Set(busses)) await bus.close()
    if (redisUrl) {
      const cleaner = new Redis(redisUrl)
      const stale = await cleaner.keys(`${prefix}*`)
      if (stale.length) await cleaner.del(...stale)
      cleaner.disconnect()
    }
    for (const redis of redisClients) redis.disconnect()
  })

  const rooms = createRoomsRepository(chatDb(database.db))
  const clients: ChatClient[] = []
  t.teardown(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => {})))
  })

  return {
    instances,
    addInstance,
    database: database as Database,
    /** The test database's URL on PostgreSQL (undefined on PGlite), for child processes. */
    databaseUrl: testDb.config.url,
    prefix,
    keys,
    authApp,
    rooms,
    async createRooms(...names: string[]) {
      for (const name of names) await rooms.create(name)
    },
    async register(username: string, password = PASSWORD) {
      const response = await authApp.inject({
        method: 'POST',
        url: '/register',
        payload: { username, password },
      })
      if (response.statusCode !== 201) throw new Error(`register ${username}: ${response.body}`)
    },
    async login(username: string, password = PASSWORD): Promise<string> {
      const response = await authApp.inject({
        method: 'POST',
        url: '/login',
        payload: { username, password },
      })
      if (response.statusCode !== 200) throw new Error(`login ${username}: ${response.body}`)
      return response.json().token
    },
    /** A registered user's fresh token. */
    async token(username: string): Promise<string> {
      await this.register(username)
      return this.login(username)
    },
    async adminToken(username = 'root'): Promise<string> {
      await this.register(username)
      await authDb(database.db)
        .updateTable('users')
        .set({ is_admin: true })
        .where('username', '=', username)
        .execute()
      return this.login(username)
    },
    async logout(token: string) {
      return authApp.inject({
        method: 'POST',
        url: '/logout',
        headers: { authorization: `Token ${token}` },
      })
    },
    /** Connects to instance `index` and waits for the MOTD (token clients get one). */
    async connect(token: string, index = 0, connectOptions: ChatConnectOptions = {}) {
      const client = await ChatClient.connect(instances[index]?.url as string, {
        token,
        ...connectOptions,
      })
      clients.push(client)
      return client
    },
    /** A user connected and past the MOTD: the usual start of a story. */
    async user(username: string, index = 0) {
      const client = await this.connect(await this.token(username), index)
      await client.next((frame) => frame.type === 'notification' && frame.code === 'api-motd')
      return client
    },
    track(client: ChatClient) {
      clients.push(client)
      return client
    },
    /**
     * What a process beside the chat instances (the admin CLI) reaches of the deployment: the
     * bus, and the rooms' presence (in Redis, or the instances' shared state in memory).
     */
    outsider(): { bus: Bus; presence: Pick<Presence, 'forgetRoom'> } {
      const bus = busFor()
      busses.push(bus)
      return {
        bus,
        presence: redisUrl
          ? createRoomPresence(newRedis(), prefix)
          : createMemoryPresence('outsider', memoryPresence),
      }
    },
  }
}

export type Cluster = Awaited<ReturnType<typeof startCluster>>

const quietLogger = { info() {}, warn() {}, error() {} }
