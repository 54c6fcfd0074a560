import { randomBytes } from 'node:crypto'
import { chatDb, createRoomsRepository, migrateChat } from '@finchat/chat'
import { createDatabase } from '@finchat/db'
import { createTestDatabase } from '@finchat/db/testing'
import { generateSigningKeys } from '@finchat/sessions'
import { type ServiceProcess, startServiceProcess } from '@finchat/testing'
import { Redis } from 'ioredis'
import { collectGarbage, INSPECT_ARG, inspectorUrlIn } from '../inspector.js'
import { type NamedProcess, processesNamed } from '../process-stats.js'
import { BENCH_ROOMS, SERVER_LIMITS } from './bench-rooms.js'
import type { BenchTarget } from './bench-target.js'
import { builtService } from './built-service.js'
import { createRestUsers } from './rest-users.js'

export interface ClusterTargetOptions {
  databaseUrl: string
  redisUrl: string
  chatInstances?: number
  /** Extra Node.js flags for the server processes (e.g. `--cpu-prof` to profile them). */
  nodeArgs?: string[]
}

/**
 * The deployment's topology: auth and N chat instances as processes on one PostgreSQL (a
 * database made for the run) and one Redis (a key prefix of the run's own). Clients connect to
 * the chat instances directly, spread over them; the gateway, a relay, is not what is measured.
 * CPU counts every process of the servers, Redis and PostgreSQL (all their backends). The
 * services run from their builds, as their images run them.
 */
export async function startCluster(options: ClusterTargetOptions): Promise<BenchTarget> {
  const authMain = builtService('auth')
  const chatMain = builtService('chat')
  const database = await createTestDatabase({ DATABASE_URL: options.databaseUrl })
  const prefix = `bench:${randomBytes(4).toString('hex')}:`
  const keys = generateSigningKeys()
  const shared = {
    NODE_ENV: 'production',
    DATABASE_URL: database.config.url,
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: prefix,
    JWT_PUBLIC_KEY: keys.publicKey,
    ...SERVER_LIMITS,
  }
  const processes: ServiceProcess[] = []
  const named: NamedProcess[] = []
  const start = async (name: string, script: string, env: NodeJS.ProcessEnv, inspect = false) => {
    const nodeArgs = [...(options.nodeArgs ?? []), ...(inspect ? [INSPECT_ARG] : [])]
    const service = await startServiceProcess(name, script, env, { nodeArgs })
    processes.push(service)
    named.push({ name, pid: service.process.pid as number })
    return service
  }
  async function cleanUp() {
    await Promise.all(processes.map((service) => service.stop()))
    const redis = new Redis(options.redisUrl)
    const stale = await redis.keys(`${prefix}*`)
    if (stale.length > 0) await redis.del(...stale)
    redis.disconnect()
    await database.drop()
  }
  try {
    const auth = await start('auth', authMain, {
      ...shared,
      JWT_PRIVATE_KEY: keys.privateKey,
    })
    // One after the other: the first one migrates the schema.
    const chats: ServiceProcess[] = []
    for (let i = 1; i <= (options.chatInstances ?? 2); i++) {
      const chat = await start(
        `chat-${i}`,
        chatMain,
        { ...shared, INSTANCE_ID: `chat-${i}-${prefix}` },
        true,
      )
      chats.push(chat)
    }
    // Read now: the output lines kept are only the latest.
    const inspectors = chats.map((chat) => inspectorUrlIn(chat.logs) as string)
    const db = await createDatabase(database.config)
    try {
      await migrateChat(db.db)
      const rooms = createRoomsRepository(chatDb(db.db))
      for (const name of BENCH_ROOMS) await rooms.create(name)
    } finally {
      await db.close()
    }
    return {
      name: `cluster (auth + ${chats.length} chat, Redis, PostgreSQL)`,
      wsUrls: chats.map((chat) => `${chat.url.replace('http', 'ws')}/ws/chat`),
      serverPids: chats.map((chat) => chat.process.pid as number),
      async collectGarbage() {
        const heaps = await Promise.all(inspectors.map(collectGarbage))
        return heaps.reduce((total, heap) => total + heap, 0)
      },
      cpuProcesses: () => [
        ...named,
        ...processesNamed('redis-server'),
        ...processesNamed('postgres'),
      ],
      tokens: createRestUsers(auth.url),
      stop: cleanUp,
    }
  } catch (error) {
    await cleanUp().catch(() => {})
    throw error
  }
}
