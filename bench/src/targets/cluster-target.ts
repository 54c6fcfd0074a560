import { randomBytes } from 'node:crypto'
import { chatDb, createRoomsRepository, migrateChat } from '@finchat/chat'
import { createDatabase } from '@finchat/db'
import { createTestDatabase } from '@finchat/db/testing'
import { generateSigningKeys } from '@finchat/sessions'
import {
  type EdgeProxy,
  haproxyAvailable,
  type ServiceProcess,
  startEdge,
  startServiceProcess,
} from '@finchat/testing'
import { Redis } from 'ioredis'
import { collectGarbage, INSPECT_ARG, inspectorUrlIn } from '../inspector.js'
import { type NamedProcess, processesNamed } from '../process-stats.js'
import { BENCH_ROOMS, SERVER_LIMITS } from './bench-rooms.js'
import type { BenchTarget, EdgeProcess } from './bench-target.js'
import { builtService } from './built-service.js'
import { createRestUsers } from './rest-users.js'

/**
 * How clients reach the chat instances: straight to them, through the deployment's edge
 * (HAProxy on `infra/haproxy/haproxy.cfg`, `/ws/chat` to the chats) or through the Node
 * gateway (`services/gateway`, what `pnpm --filter` development runs use on port 8000).
 */
export type ClusterPath = 'direct' | 'edge' | 'gateway'

export interface ClusterTargetOptions {
  databaseUrl: string
  redisUrl: string
  chatInstances?: number
  /** Extra Node.js flags for the server processes (e.g. `--cpu-prof` to profile them). */
  nodeArgs?: string[]
  /** The paths measured, each a target of its own over the same processes; default direct. */
  paths?: ClusterPath[]
}

const pathName = (path: ClusterPath, chats: number) =>
  ({
    direct: `cluster (auth + ${chats} chat, Redis, PostgreSQL)`,
    edge: `cluster-edge (haproxy → ${chats} chat)`,
    gateway: `cluster-gateway (Node gateway → ${chats} chat)`,
  })[path]

/** Whether the edge can run here (Debian's haproxy), checked before anything starts. */
export { haproxyAvailable }

/**
 * The deployment's topology: auth and N chat instances as processes on one PostgreSQL (a
 * database made for the run) and one Redis (a key prefix of the run's own), with the gateway
 * and the edge in front when those paths are asked for. One target per path, all over the same
 * processes and users, so that the start (and registering thousands of users) is paid once:
 * `direct` spreads clients over the chat instances, `edge` and `gateway` send them all to the
 * one port, which spreads them. CPU counts every process on a target's path: auth, the chats,
 * Redis and PostgreSQL (all their backends), plus the edge's haproxy or the gateway. The
 * services run from their builds, as their images run them.
 */
export async function startCluster(options: ClusterTargetOptions): Promise<BenchTarget[]> {
  const paths = options.paths ?? ['direct']
  if (paths.includes('edge') && !haproxyAvailable()) {
    throw new Error(
      'the cluster-edge target needs haproxy (apt-get install haproxy, or HAPROXY_PATH)',
    )
  }
  // Every build is checked before anything starts, rather than after minutes of setup.
  const authMain = builtService('auth')
  const chatMain = builtService('chat')
  const gatewayMain = paths.some((path) => path !== 'direct') ? builtService('gateway') : undefined
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
  let edge: EdgeProxy | undefined
  const start = async (name: string, script: string, env: NodeJS.ProcessEnv, inspect = false) => {
    const nodeArgs = [...(options.nodeArgs ?? []), ...(inspect ? [INSPECT_ARG] : [])]
    const service = await startServiceProcess(name, script, env, { nodeArgs })
    processes.push(service)
    return service
  }
  let stopped: Promise<void> | undefined
  const cleanUp = () => {
    stopped ??= (async () => {
      await edge?.stop()
      await Promise.all(processes.map((service) => service.stop()))
      const redis = new Redis(options.redisUrl)
      const stale = await redis.keys(`${prefix}*`)
      if (stale.length > 0) await redis.del(...stale)
      redis.disconnect()
      await database.drop()
    })()
    return stopped
  }
  try {
    const auth = await start('auth', authMain, {
      ...shared,
      JWT_PRIVATE_KEY: keys.privateKey,
    })
    named.push({ name: 'auth', pid: auth.process.pid as number })
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
      named.push({ name: `chat-${i}`, pid: chat.process.pid as number })
    }
    // Read now: the output lines kept are only the latest.
    const inspectors = chats.map((chat) => inspectorUrlIn(chat.logs) as string)
    let gateway: (EdgeProcess & { url: string }) | undefined
    if (gatewayMain) {
      // As compose runs it, from its build; the edge needs it too, for everything but /ws/chat.
      const service = await start(
        'gateway',
        gatewayMain,
        {
          NODE_ENV: 'production',
          AUTH_URL: auth.url,
          CHAT_URLS: chats.map((chat) => chat.url).join(','),
        },
        true,
      )
      const inspector = inspectorUrlIn(service.logs) as string
      gateway = {
        name: 'gateway',
        pid: service.process.pid as number,
        url: service.url,
        collectGarbage: () => collectGarbage(inspector),
      }
    }
    if (paths.includes('edge') && gateway) {
      edge = await startEdge({ gatewayUrl: gateway.url, chatUrls: chats.map((chat) => chat.url) })
    }
    const db = await createDatabase(database.config)
    try {
      await migrateChat(db.db)
      const rooms = createRoomsRepository(chatDb(db.db))
      for (const name of BENCH_ROOMS) await rooms.create(name)
    } finally {
      await db.close()
    }
    const tokens = createRestUsers(auth.url)
    const target = (path: ClusterPath): BenchTarget => {
      const front: (EdgeProcess & { wsUrl: string }) | undefined =
        path === 'edge' && edge
          ? { name: 'haproxy', pid: edge.pid, wsUrl: edge.wsUrl }
          : path === 'gateway' && gateway
            ? { ...gateway, wsUrl: `${gateway.url.replace('http', 'ws')}/ws/chat` }
            : undefined
      return {
        name: pathName(path, chats.length),
        wsUrls: front
          ? [front.wsUrl]
          : chats.map((chat) => `${chat.url.replace('http', 'ws')}/ws/chat`),
        serverPids: chats.map((chat) => chat.process.pid as number),
        ...(front
          ? { edge: { name: front.name, pid: front.pid, collectGarbage: front.collectGarbage } }
          : {}),
        async collectGarbage() {
          const heaps = await Promise.all(inspectors.map(collectGarbage))
          return heaps.reduce((total, heap) => total + heap, 0)
        },
        // Only the processes on this path: the gateway idles while clients go direct or
        // through the edge, and the edge while they go through the gateway.
        cpuProcesses: () => [
          ...named,
          ...(front ? [{ name: front.name, pid: front.pid }] : []),
          ...processesNamed('redis-server'),
          ...processesNamed('postgres'),
        ],
        tokens,
        stop: cleanUp,
      }
    }
    return paths.map(target)
  } catch (error) {
    await cleanUp().catch(() => {})
    throw error
  }
}
