import { randomBytes } from 'node:crypto'
import { authDb, buildAuth, createScryptHasher, migrateAuth } from '@finchat/auth'
import { type Bus, createBus } from '@finchat/bus'
import {
  buildChat,
  chatDb,
  createMemoryPresence,
  createRedisPresence,
  createRoomsRepository,
  migrateChat,
} from '@finchat/chat'
import { createDatabase } from '@finchat/db'
import { createTestDatabase } from '@finchat/db/testing'
import { createServer } from '@finchat/kit'
import { ChatClient } from '@finchat/protocol/client'
import { createRevocationList, generateSigningKeys } from '@finchat/sessions'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import type { Test } from 'tap'

export const PASSWORD = 'correct-horse-battery'
export const redisUrl = process.env.REDIS_URL

const quietLogger = { info() {}, warn() {}, error() {} }

/**
 * Auth and chat mounted in one server, the way the gateway presents them to a bot: REST and
 * `/ws/chat` on one host:port. On PostgreSQL and Redis when DATABASE_URL and REDIS_URL are set,
 * on PGlite and the in-process bus otherwise. `restart` stops the server and starts it again on
 * the same port, keeping the data.
 */
export async function startChatHost(t: Test) {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.drop())
  const database = await createDatabase(testDb.config)
  t.teardown(() => database.close())
  await migrateAuth(database.db)
  await migrateChat(database.db)

  const prefix = `test:${randomBytes(4).toString('hex')}:`
  const keys = generateSigningKeys()
  const redis = redisUrl ? new Redis(redisUrl) : undefined
  redis?.on('error', () => {})
  const busses: Bus[] = []
  /** A bus as another process on this deployment would open it (the shared one in memory mode). */
  const newBus = (): Bus => {
    if (!redisUrl && busses[0]) return busses[0]
    const bus = createBus({ redisUrl, prefix, logger: quietLogger })
    busses.push(bus)
    return bus
  }
  const bus = newBus()
  const revocations = createRevocationList(redis, prefix)
  let port = 0
  let app: FastifyInstance | undefined
  let generation = 0

  async function start() {
    const server = await createServer({ logger: false })
    await server.register(
      buildAuth({
        db: authDb(database.db),
        bus,
        keys,
        revocations,
        loginLimiter: { retryAfter: async () => null, recordFailure: async () => {} },
        passwords: createScryptHasher(10),
        tokenTtlSeconds: 3600,
      }),
    )
    const instanceId = `chat-${++generation}-${prefix}`
    await server.register(
      buildChat({
        db: chatDb(database.db),
        bus,
        presence: redis
          ? createRedisPresence({ redis, instanceId, prefix, heartbeatMs: 200, deadAfterMs: 1000 })
          : createMemoryPresence(instanceId),
        revocations,
        publicKey: keys.publicKey,
      }),
    )
    await server.listen({ port, host: '127.0.0.1' })
    port = (server.server.address() as { port: number }).port
    app = server
  }
  await start()

  const clients: ChatClient[] = []
  t.teardown(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => {})))
    await app?.close()
    for (const each of busses) await each.close()
    if (redis) {
      const stale = await redis.keys(`${prefix}*`)
      if (stale.length) await redis.del(...stale)
      redis.disconnect()
    }
  })

  const rooms = createRoomsRepository(chatDb(database.db))
  const inject = (path: string, payload?: object, token?: string) =>
    (app as FastifyInstance).inject({
      method: 'POST',
      url: path,
      payload,
      headers: token ? { authorization: `Token ${token}` } : {},
    })

  return {
    /** As FINBOT_HOST names it. */
    get host() {
      return `127.0.0.1:${port}`
    },
    get wsUrl() {
      return `ws://127.0.0.1:${port}/ws/chat`
    },
    prefix,
    newBus,
    async createRooms(...names: string[]) {
      for (const name of names) await rooms.create(name)
    },
    async register(username: string, password = PASSWORD) {
      const response = await inject('/register', { username, password })
      if (response.statusCode !== 201) throw new Error(`register ${username}: ${response.body}`)
    },
    async login(username: string, password = PASSWORD): Promise<string> {
      const response = await inject('/login', { username, password })
      if (response.statusCode !== 200) throw new Error(`login ${username}: ${response.body}`)
      return response.json().token
    },
    async logout(token: string) {
      await inject('/logout', undefined, token)
    },
    /** A registered user connected and past the MOTD. */
    async user(username: string) {
      await this.register(username)
      const client = await ChatClient.connect(this.wsUrl, { token: await this.login(username) })
      clients.push(client)
      await client.next((frame) => frame.type === 'notification' && frame.code === 'api-motd')
      return client
    },
    /** A graceful stop (clients get 1012), then the same server again on the same port. */
    async restart(downMs = 0) {
      await app?.close()
      app = undefined
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs))
      await start()
    },
  }
}

export type ChatHost = Awaited<ReturnType<typeof startChatHost>>
