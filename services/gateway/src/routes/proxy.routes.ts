import proxy from '@fastify/http-proxy'
import type { FastifyReplyFromHooks } from '@fastify/reply-from'
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { UpstreamPool } from '../upstreams/upstream-pool.js'

export interface ProxyRoutesOptions {
  authUrl: string
  chat: UpstreamPool
  timeoutMs: number
}

/** Every public HTTP route of auth (`/session` is the web UI's login), and the admin user routes. */
const AUTH_PREFIXES = ['/register', '/login', '/logout', '/profile', '/session', '/admin/users']

/** The instance chosen for each request to chat, so that a failure can be pinned on it. */
const chosen = new WeakMap<object, string>()

/** What the proxy hands to its hooks, whatever its server generics. */
interface ProxiedRequest {
  ip: string
  protocol: string
  headers: Record<string, string | string[] | undefined>
}
interface ErrorReply {
  request: object & { log: FastifyBaseLogger }
  code(status: number): { send(body: unknown): unknown }
}

/**
 * Routes HTTP to the services with @fastify/http-proxy: auth's routes to auth, room routes to a
 * chat instance taken in turn (websocket upgrades are `websocketRelayPlugin`'s). A service that cannot be reached gives a JSON
 * `503` (`504` when it does not answer in time), never a hang.
 */
export async function proxyRoutes(app: FastifyInstance, options: ProxyRoutesOptions) {
  const { chat } = options
  const common = {
    // Retrying is the client's call: a login or a message must not be sent twice behind its back.
    retryMethods: [],
    undici: {
      connectTimeout: options.timeoutMs,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    },
  }

  for (const prefix of AUTH_PREFIXES) {
    await app.register(proxy, {
      ...common,
      upstream: options.authUrl,
      prefix,
      rewritePrefix: prefix,
      replyOptions: {
        rewriteRequestHeaders: forwardedHeaders,
        onError: (reply, { error }) => unavailable(reply, 'auth', error),
      },
    })
  }

  /** Picks the chat instance before the route runs; none at all is a 503 before any upgrade. */
  const chooseChat = (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const upstream = chat.pick()
    if (upstream === undefined) {
      reply.code(503).send({ detail: 'No chat instance is available; try again shortly.' })
      return
    }
    chosen.set(request, upstream)
    done()
  }
  const chatReplyOptions: FastifyReplyFromHooks = {
    getUpstream: (request) => chosen.get(request) as string,
    rewriteRequestHeaders: forwardedHeaders,
    onError: (reply, { error }) => {
      const upstream = chosen.get(reply.request)
      if (upstream && isUnreachable(error)) chat.markDown(upstream)
      unavailable(reply, 'chat', error)
    },
  }

  await app.register(proxy, {
    ...common,
    upstream: '',
    prefix: '/admin/rooms',
    rewritePrefix: '/admin/rooms',
    preHandler: chooseChat,
    replyOptions: chatReplyOptions,
  })
  // Plain HTTP requests only: chat answers them with a 4xx. Upgrades are the relay's.
  await app.register(proxy, {
    ...common,
    upstream: '',
    prefix: '/ws/chat',
    rewritePrefix: '/ws/chat',
    preHandler: chooseChat,
    replyOptions: chatReplyOptions,
  })
}

function forwardedHeaders(request: ProxiedRequest, headers: Record<string, unknown>) {
  return {
    ...headers,
    // Set, not appended: a client's own X-Forwarded-For is not to be believed.
    'x-forwarded-for': request.ip,
    'x-forwarded-host': request.headers.host,
    'x-forwarded-proto': request.protocol,
  }
}

const UNREACHABLE = new Set([
  'FST_REPLY_FROM_SERVICE_UNAVAILABLE',
  'UND_ERR_CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
])

/** Connection refused or never established: the instance is down, not merely slow. */
function isUnreachable(error: Error): boolean {
  const { code, cause } = error as { code?: string; cause?: { code?: string } }
  return UNREACHABLE.has(code ?? '') || UNREACHABLE.has(cause?.code ?? '')
}

function unavailable(reply: ErrorReply, service: string, error: Error) {
  const reported = (error as { statusCode?: number }).statusCode
  // 503: could not reach it; 504: no answer in time; 502: anything else went wrong on the way.
  const status = isUnreachable(error) ? 503 : reported === 504 ? 504 : 502
  const what = {
    502: 'answered badly',
    503: 'is unavailable',
    504: 'did not answer in time',
  }[status]
  reply.request.log.warn({ service, err: error }, 'upstream request failed')
  reply.code(status).send({ detail: `The ${service} service ${what}; try again shortly.` })
}
