import { randomBytes } from 'node:crypto'
import {
  authDb,
  buildAuth,
  createAccounts,
  createBoundedHasher,
  createMemoryLoginLimiter,
  createMemoryRegistrationLimiter,
  createRedisLoginLimiter,
  createRedisRegistrationLimiter,
  createRevocationRelay,
  createScryptHasher,
  createSessionService,
  type HashQueueLimits,
  type LoginLimits,
  migrateAuth,
  type RegistrationLimits,
} from '@finchat/auth'
import { type Bus, createBus } from '@finchat/bus'
import {
  buildChat,
  type ChatLimits,
  chatDb,
  createMemoryPresence,
  createMemoryPresenceState,
  createRedisPresence,
  createRoomAdmin,
  createRoomAnnouncements,
  createRoomPresence,
  migrateChat,
  type Presence,
} from '@finchat/chat'
import { createDatabase, type Database } from '@finchat/db'
import { createTestDatabase } from '@finchat/db/testing'
import { createServer, webUiPlugin } from '@finchat/kit'
import { ChatClient, type ChatConnectOptions } from '@finchat/protocol/client'
import {
  createMemoryRevocationList,
  createRedisRevocationList,
  generateSigningKeys,
  type RevocationList,
  tokenIssuerPlugin,
} from '@finchat/sessions'
import Fastify, { type FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import type { Test } from 'tap'
import { createRoomsOrFail } from './rooms.js'

export const PASSWORD = 'correct-horse-battery'
export const redisUrl = process.env.REDIS_URL

const quietLogger = { info() {}, warn() {}, error() {} }
// No test means to be locked out by its own logins: the limiter's own test sets limits.
const UNLIMITED = { maxFailuresPerUser: 1e9, maxFailuresPerIp: 1e9, windowSeconds: 1 }
/** What `loginLimits` leaves unsaid: budgets a test can use up, in a window it outlasts. */
const LIMITED: LoginLimits = { maxFailuresPerUser: 5, maxFailuresPerIp: 50, windowSeconds: 60 }
const TOKEN_TTL_SECONDS = 3600

export interface StackOptions {
  /** Chat instances, each its own server (ignored when combined). Default 1; 0 for auth alone. */
  chatInstances?: number
  /** Auth and one chat instance mounted in one server, as port 8000 presents them. */
  combined?: boolean
  /** A built web UI for the combined server to serve at `/`, as `pnpm start` does. */
  webRoot?: string
  limits?: Partial<ChatLimits>
  presenceTimings?: { heartbeatMs: number; deadAfterMs: number }
  /** Wraps each chat instance's bus, to make Redis fail where an instance uses it. */
  chatBus?: (bus: Bus) => Bus
  /**
   * Failed-login budgets for auth, the rest as LIMITED; kept in Redis when REDIS_URL is set, as
   * a deployment keeps them. Unset, failed logins are never limited.
   */
  loginLimits?: Partial<LoginLimits>
  /** Registrations per address (in Redis when REDIS_URL is set); unset: unlimited. */
  registrationLimits?: RegistrationLimits
  /** Password hashing bounded as in production, at this scrypt cost; unset: unbounded, cost 10. */
  passwordHashing?: HashQueueLimits & { cost: number }
  /** Lifetime of the tokens auth issues (an hour by default), for stories of a token expiring. */
  tokenTtlSeconds?: number
}

/** What a process beside the chat instances (the admin CLI) reaches of the deployment. */
export interface Outsider {
  bus: Bus
  /** The rooms' presence: in Redis, or the instances' shared state in memory. */
  presence: Pick<Presence, 'forgetRoom'>
}

/** An answer of auth's REST API. */
export interface Answer {
  statusCode: number
  body: string
  json<T = { token: string }>(): T
}

/** A listening server of the stack; `restart` keeps its port and the data. */
export interface StackServer {
  /** http://127.0.0.1:PORT */
  readonly url: string
  /** ws://127.0.0.1:PORT/ws/chat */
  readonly wsUrl: string
  /** As FINBOT_HOST names it. */
  readonly host: string
  /** The chat instance's presence id, when it runs one. */
  readonly instanceId: string | undefined
  /** The server running now (for `inject`). */
  readonly app: FastifyInstance
  readonly running: boolean
  /** A graceful stop, as SIGTERM does it. */
  stop(): Promise<void>
  start(): Promise<void>
  /** A graceful stop (clients get 1012), then the same server again on the same port. */
  restart(downMs?: number): Promise<void>
}

/**
 * Auth and N chat instances in this process, on one database and one bus, as a deployment
 * runs them: on PostgreSQL and Redis when DATABASE_URL and REDIS_URL are set (each server with
 * Redis connections of its own, as separate processes have), on PGlite and the in-process bus
 * otherwise. The services' own tests, the gateway's, the bot's and the browser's use it; the
 * cluster suite runs the same services as processes (`startDeployment`).
 */
export async function startStack(t: Test, options: StackOptions = {}) {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.drop())
  const database = await createDatabase(testDb.config)
  t.teardown(() => database.close())
  await migrateAuth(database.db)
  await migrateChat(database.db)

  const prefix = `test:${randomBytes(4).toString('hex')}:`
  const keys = generateSigningKeys()
  const redisClients: Redis[] = []
  const newRedis = () => {
    const redis = new Redis(redisUrl as string)
    redis.on('error', () => {})
    redisClients.push(redis)
    return redis
  }
  const memoryBus = redisUrl ? undefined : createBus()
  const busses = new Set<Bus>()
  /** A bus as another process of this deployment opens it (the shared one in memory mode). */
  const newBus = (): Bus => {
    const bus = memoryBus ?? createBus({ redisUrl, prefix, logger: quietLogger })
    busses.add(bus)
    return bus
  }
  const memoryRevocations = createMemoryRevocationList()
  /** The revocation list as another process opens it (the shared one in memory mode). */
  const newRevocations = (): RevocationList =>
    redisUrl ? createRedisRevocationList(newRedis(), prefix) : memoryRevocations
  const memoryPresence = createMemoryPresenceState()
  const outsider = (): Outsider => ({
    bus: newBus(),
    presence: redisUrl
      ? createRoomPresence(newRedis(), prefix)
      : createMemoryPresence('outsider', memoryPresence),
  })
  const loginLimits = options.loginLimits && { ...LIMITED, ...options.loginLimits }
  const authDeps = {
    db: authDb(database.db),
    keys,
    loginLimiter:
      loginLimits && redisUrl
        ? createRedisLoginLimiter(newRedis(), loginLimits, prefix)
        : createMemoryLoginLimiter(loginLimits ?? UNLIMITED),
    // The lowest cost keeps tests quick; the hashing path is the one production uses.
    passwords: options.passwordHashing
      ? createBoundedHasher(
          createScryptHasher(options.passwordHashing.cost),
          options.passwordHashing,
        )
      : createScryptHasher(10),
    registrationLimiter:
      options.registrationLimits &&
      (redisUrl
        ? createRedisRegistrationLimiter(newRedis(), options.registrationLimits, prefix)
        : createMemoryRegistrationLimiter(options.registrationLimits)),
    tokenTtlSeconds: options.tokenTtlSeconds ?? TOKEN_TTL_SECONDS,
  }
  let generation = 0

  const mountAuth = (app: FastifyInstance) =>
    app.register(buildAuth({ ...authDeps, bus: newBus(), revocations: newRevocations() }))
  const mountChat = (instanceId: string) => (app: FastifyInstance) =>
    app.register(
      buildChat({
        db: chatDb(database.db),
        bus: options.chatBus ? options.chatBus(newBus()) : newBus(),
        presence: redisUrl
          ? createRedisPresence({
              redis: newRedis(),
              instanceId,
              prefix,
              heartbeatMs: options.presenceTimings?.heartbeatMs ?? 200,
              deadAfterMs: options.presenceTimings?.deadAfterMs ?? 1000,
            })
          : createMemoryPresence(instanceId, memoryPresence),
        revocations: newRevocations(),
        publicKey: keys.publicKey,
        limits: options.limits,
      }),
    )
  const mountWeb = (app: FastifyInstance) =>
    options.webRoot ? app.register(webUiPlugin, { root: options.webRoot }) : undefined

  const servers: StackServer[] = []
  async function serve(
    mount: Array<(app: FastifyInstance) => unknown>,
    instanceId?: string,
  ): Promise<StackServer> {
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
      instanceId,
      get app() {
        if (!app) throw new Error('the server is stopped')
        return app
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

  const chats: StackServer[] = []
  /** One more chat instance, its own server on the same database and bus. */
  async function addChat(): Promise<StackServer> {
    const instanceId = `chat-${++generation}-${prefix}`
    const chat = await serve([mountChat(instanceId)], instanceId)
    chats.push(chat)
    return chat
  }
  let combined: StackServer | undefined
  if (options.combined) {
    const instanceId = `chat-${++generation}-${prefix}`
    combined = await serve([mountWeb, mountAuth, mountChat(instanceId)], instanceId)
    chats.push(combined)
  }
  const auth = combined ?? (await serve([mountAuth]))
  if (!combined) for (let i = 0; i < (options.chatInstances ?? 1); i++) await addChat()

  // Another process's token issuer with the deployment's keys: auth accepts its tokens.
  const issuer = Fastify()
  await issuer.register(tokenIssuerPlugin, {
    keys,
    ttlSeconds: options.tokenTtlSeconds ?? TOKEN_TTL_SECONDS,
  })
  await issuer.ready()

  const clients: ChatClient[] = []
  t.teardown(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => {})))
    for (const server of servers) await server.stop()
    await issuer.close()
    for (const bus of busses) await bus.close()
    if (redisUrl) {
      const cleaner = newRedis()
      const stale = await cleaner.keys(`${prefix}*`)
      if (stale.length) await cleaner.del(...stale)
    }
    for (const redis of redisClients) redis.disconnect()
  })

  // As a process beside the deployment (the CLI) does it: writes, then delivers what it wrote.
  const roomAnnouncements = createRoomAnnouncements({
    db: chatDb(database.db),
    ...outsider(),
    log: quietLogger,
  })
  const rooms = createRoomAdmin({ db: chatDb(database.db), announce: roomAnnouncements.flush })
  const revocationRelay = createRevocationRelay({
    db: authDeps.db,
    bus: newBus(),
    revocations: newRevocations(),
    log: quietLogger,
  })
  const accounts = createAccounts({ ...authDeps, announce: revocationRelay.flush })
  const sessions = createSessionService({
    ...authDeps,
    announce: revocationRelay.flush,
    issue: issuer.issueSessionToken,
  })
  const ask = async (
    method: 'GET' | 'POST',
    path: string,
    token?: string,
    payload: object = {},
  ): Promise<Answer> => {
    const response = await auth.app.inject({
      method,
      url: path,
      headers: token ? { authorization: `Token ${token}` } : {},
      ...(method === 'POST' ? { payload } : {}),
    })
    return {
      statusCode: response.statusCode,
      body: response.body,
      json: <T>() => response.json<T>(),
    }
  }
  const wsUrlOf = (chat: number | string) =>
    typeof chat === 'string' ? chat : (chats[chat] as StackServer).wsUrl

  return {
    auth,
    chats,
    /** The combined server (REST and websocket on one port), when asked for. */
    combined,
    addChat,
    database: database as Database,
    /** The test database's URL on PostgreSQL (undefined on PGlite), for child processes. */
    databaseUrl: testDb.config.url,
    prefix,
    keys,
    newBus,
    newRevocations,
    /** A new outsider's view: bus and room presence, as the admin CLI has them. */
    outsider,
    /** Room administration, as routes and the CLI do it (an outsider's). */
    rooms,
    /** Auth's use cases on the stack's database and Redis, as the CLI or the standalone call them. */
    accounts,
    sessions,
    /** The rooms' rows, in order; a refused name fails the test. */
    createRooms: (...names: string[]) => createRoomsOrFail(rooms, names),
    async register(username: string, password = PASSWORD) {
      const response = await ask('POST', '/register', undefined, { username, password })
      if (response.statusCode !== 201) throw new Error(`register ${username}: ${response.body}`)
    },
    async login(username: string, password = PASSWORD): Promise<string> {
      const response = await ask('POST', '/login', undefined, { username, password })
      if (response.statusCode !== 200) throw new Error(`login ${username}: ${response.body}`)
      return response.json().token
    },
    /** A registered user's fresh token. */
    async token(username: string): Promise<string> {
      await this.register(username)
      return this.login(username)
    },
    /** Makes `username` an administrator; its next login carries the flag. */
    async makeAdmin(username: string) {
      await accounts.setAdmin(username, true)
    },
    /** A new administrator's token. */
    async adminToken(username = 'root'): Promise<string> {
      await this.register(username)
      await this.makeAdmin(username)
      return this.login(username)
    },
    logout(token: string) {
      return ask('POST', '/logout', token)
    },
    /** GET /profile with a token: what a client sees of its session. */
    profile(token: string) {
      return ask('GET', '/profile', token)
    },
    /** Connects to chat instance `chat` (an index, or a websocket URL); the client is closed at the end. */
    async connect(
      token: string,
      chat: number | string = 0,
      connectOptions: ChatConnectOptions = {},
    ) {
      const client = await ChatClient.connect(wsUrlOf(chat), { token, ...connectOptions })
      clients.push(client)
      return client
    },
    /** A newly registered user connected and past the MOTD: the usual start of a story. */
    async user(username: string, chat: number | string = 0) {
      const client = await this.connect(await this.token(username), chat)
      await client.next((frame) => frame.type === 'notification' && frame.code === 'api-motd')
      return client
    },
    /** Closes `client` at the end of the test. */
    track(client: ChatClient) {
      clients.push(client)
      return client
    },
  }
}

export type Stack = Awaited<ReturnType<typeof startStack>>
