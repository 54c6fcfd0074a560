import { haproxyAvailable, launchDeployment } from '@finchat/testing'
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
  const scripts = {
    auth: builtService('auth'),
    chat: builtService('chat'),
    gateway: paths.some((path) => path !== 'direct') ? builtService('gateway') : '',
  }
  const deployment = await launchDeployment({
    databaseUrl: options.databaseUrl,
    redisUrl: options.redisUrl,
    chatInstances: options.chatInstances,
    prefixTag: 'bench',
    env: { NODE_ENV: 'production', ...SERVER_LIMITS },
    scripts: (service) => scripts[service],
    // The chats' and the gateway's heaps are measured through their inspectors.
    nodeArgs: (service) => [
      ...(options.nodeArgs ?? []),
      ...(service === 'auth' ? [] : [INSPECT_ARG]),
    ],
    gateway: scripts.gateway !== '',
    edge: paths.includes('edge'),
    rooms: BENCH_ROOMS,
  })
  try {
    const { auth, chats, edge } = deployment
    const named: NamedProcess[] = [
      { name: 'auth', pid: auth.process.pid as number },
      ...chats.map((chat, i) => ({ name: `chat-${i + 1}`, pid: chat.process.pid as number })),
    ]
    // Read now: the output lines kept are only the latest.
    const inspectors = chats.map((chat) => inspectorUrlIn(chat.logs) as string)
    const gatewayInspector = deployment.gateway && inspectorUrlIn(deployment.gateway.logs)
    const gateway: (EdgeProcess & { url: string }) | undefined = deployment.gateway && {
      name: 'gateway',
      pid: deployment.gateway.process.pid as number,
      url: deployment.gateway.url,
      collectGarbage: () => collectGarbage(gatewayInspector as string),
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
        stop: deployment.stop,
      }
    }
    return paths.map(target)
  } catch (error) {
    await deployment.stop().catch(() => {})
    throw error
  }
}
