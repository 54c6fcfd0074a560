import { randomBytes } from 'node:crypto'
import { authDb, buildAuth, createScryptHasher, migrateAuth } from '@finchat/auth'
import { type Bus, createBus } from '@finchat/bus'
import {
  buildChat,
  chatDb,
  createMemoryPresence,
  createMemoryPresenceState,
  createRedisPresence,
  createRoomsRepository,
  migrateChat,
} from '@finchat/chat'
import { createDatabase } from '@finchat/db'
import { createTestDatabase } from '@finchat/db/testing'
import { createServer, webUiPlugin } from '@finchat/kit'
import { ChatClient } from '@finchat/protocol/client'
import { createRevocationList, generateSigningKeys } from '@finchat/sessions'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import type { Test } from 'tap'

export const PASSWORD = 'correct-horse-battery'
export const redisUrl = process.env.REDIS_URL

const quietLogger = { info() {}, warn() {}, error() {} }

export interface StackOptions {
  /** Auth and one chat instance mounted in one server, as the gateway presents them. */
  combined?: boolean
  /** Chat instances, each its own server (ignored when combined). Default 1. */
  chatInstances?: number
  /** A built web UI for the combined server to serve at `/`, as `pnpm start` does. */
  webRoot?: string
}

/** A listening server of the stack; `restart` keeps its port and the data. */
export interface StackServer {
  readonly url: string
  readonly wsUrl: string
  /** As FINBOT_HOST names it. */
  readonly host: string
  readonly running: boolean
  stop(): Promise<void>
  start(): Promise<void>
  /** A graceful stop (clients get 1012), then the same server again on the same port. */
  restart(downMs?: number): Promise<void>
}

/**
 * Auth and chat as listening servers on one database and one bus, as a deployment runs them:
 * on PostgreSQL and Redis when DATABASE_URL and REDIS_URL are set, on PGlite and the in-process
 * bus otherwise. Either one combined server (REST and `/ws/chat` on one port) or an auth server
 * and N chat servers (what a gateway stands in front of).
 */
export async function startServiceStack(t: Test, options: StackOptions = {}) {
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
  /** A bus as another process of this deployment opens it (the shared one in memory mode). */
  const newBus = (): Bus => {
    if (!redisUrl && busses[0]) return busses[0]
    const bus = createBus({ redisUrl, prefix, logger: quietLogger })
    busses.push(bus)
    return bus
  }
  const bus = newBus()
  const revocations = createRevocationList(redis, prefix)
  const memoryPresence = createMemoryPresenceState()
  let generation = 0

  const mountAuth = (app: FastifyInstance) =>
    app.register(
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
  const mountChat = (app: FastifyInstance) => {
    const instanceId = `chat-${++generation}-${prefix}`
    return app.register(
      buildChat({
        db: chatDb(database.db),
        bus,
        presence: redis
          ? createRedisPresence({ redis, instanceId, prefix, heartbeatMs: 200, deadAfterMs: 1000 })
          : createMemoryPresence(instanceId, memoryPresence),
        revocations,
        publicKey: keys.publicKey,
      }),
    )
  }

  const servers: StackServer[] = []
  async function serve(mount: Array<(app: FastifyInstance) => unknown>): Promise<StackServer> {
    let port = 0
    let app: FastifyInstance | undefined
    const server: StackServer = {
      get url() {
        return `http://127.0.0.1:${port}`
      },
      get wsUrl() {
        return `ws://127.0.0.1:${port}/ws/chat`
      },
      get host() {
        return `127.0.0.1:${port}`
      },
      get running() {
        return app !== undefined
      },
      async start() {
        const next = await createServer({ logger: false })
        for (const each of mount) await each(next)
        await next.listen({ port, host: '127.0.0.1' })
        port = (next.server.address() as { port: number }).port
        app = next
      },
      async stop() {
        const current = app
        app = undefined
        await current?.close()
      },
      async restart(downMs = 0) {
        await server.stop()
        if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs))
        await server.start()
      },
    }
    await server.start()
    servers.push(server)
    return server
  }

  const mountWeb = (app: FastifyInstance) =>
    options.webRoot ? app.register(webUiPlugin, { root: options.webRoot }) : undefined
  const combined = options.combined ? await serve([mountWeb, mountAuth, mountChat]) : undefined
  const auth = combined ?? (await serve([mountAuth]))
  const chats = combined
    ? [combined]
    : await Promise.all(
        Array.from({ length: options.chatInstances ?? 1 }, () => serve([mountChat])),
      )

  const clients: ChatClient[] = []
  t.teardown(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => {})))
    for (const server of servers) await server.stop()
    for (const each of busses) await each.close()
    if (redis) {
      const stale = await redis.keys(`${prefix}*`)
      if (stale.length) await redis.del(...stale)
      redis.disconnect()
    }
  })

  const rooms = createRoomsRepository(chatDb(database.db))
  const post = async (path: string, payload?: object, token?: string) => {
    const response = await fetch(`${auth.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Token ${token}` } : {}),
      },
      body: JSON.stringify(payload ?? {}),
    })
    return { status: response.status, body: await response.text() }
  }

  return {
    auth,
    chats,
    /** The combined server (REST and websocket on one port), when asked for. */
    combined,
    prefix,
    keys,
    /** The test database's URL on PostgreSQL (undefined on PGlite), for child processes. */
    databaseUrl: testDb.config.url,
    newBus,
    async createRooms(...names: string[]) {
      for (const name of names) await rooms.create(name)
    },
    async register(username: string, password = PASSWORD) {
      const response = await post('/register', { username, password })
      if (response.status !== 201) throw new Error(`register ${username}: ${response.body}`)
    },
    async login(username: string, password = PASSWORD): Promise<string> {
      const response = await post('/login', { username, password })
      if (response.status !== 200) throw new Error(`login ${username}: ${response.body}`)
      return JSON.parse(response.body).token
    },
    /** Makes `username` an administrator; its next login carries the flag. */
    async makeAdmin(username: string) {
      await authDb(database.db)
        .updateTable('users')
        .set({ is_admin: true })
        .where('username', '=', username)
        .execute()
    },
    async logout(token: string) {
      await post('/logout', undefined, token)
    },
    /** A newly registered user connected to `wsUrl` (the first chat by default), past the MOTD. */
    async user(username: string, wsUrl = chats[0]?.wsUrl as string) {
      await this.register(username)
      const client = await ChatClient.connect(wsUrl, { token: await this.login(username) })
      clients.push(client)
      await client.next((frame) => frame.type === 'notification' && frame.code === 'api-motd')
      return client
    },
  }
}

export type ServiceStack = Awaited<ReturnType<typeof startServiceStack>>
