import type { IncomingMessage } from 'node:http'
import { connect, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { clientAddress, type TrustProxy } from '@finchat/kit'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { UpstreamPool } from '../upstreams/upstream-pool.js'

export interface WebsocketRelayOptions {
  chat: UpstreamPool
  trustProxy: TrustProxy
  /** How long reaching a chat instance may take before the next one is tried. */
  connectTimeoutMs: number
}

const CHAT_PATH = /^\/ws\/chat\/?(\?|$)/
/** Set by the relay from what it knows; a client's own values are never passed on. */
const FORWARDED = new Set(['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'forwarded'])

/**
 * `/ws/chat` as a byte-level hop: the upgrade request goes to a chat instance that was reached
 * first (another one is tried if it refuses; none left is a 503 before any upgrade), and from
 * then on the two TCP connections are piped to each other. No frame is parsed, answered or
 * buffered here beyond the stream's high-water mark, so chat's pings, its slow-consumer close
 * (4008) and its frame limit (1009) act on the real client, and every close code arrives as
 * chat sent it. Only the request head is rewritten, to set the X-Forwarded-* headers.
 */
export const websocketRelayPlugin = fp(
  async (app: FastifyInstance, options: WebsocketRelayOptions) => {
    const open = new Set<Duplex>()

    function onUpgrade(request: IncomingMessage, client: Duplex, head: Buffer) {
      if (!CHAT_PATH.test(request.url ?? '')) {
        refuse(client, 404, 'Not found.')
        return
      }
      open.add(client)
      client.once('close', () => open.delete(client))
      // An error before the pipes exist (the client gave up while an instance was tried).
      client.on('error', () => client.destroy())
      void reachChat(options, client).then((upstream) => {
        if (!upstream) {
          refuse(client, 503, 'No chat instance is available; try again shortly.')
          return
        }
        upstream.write(requestHead(request, options.trustProxy))
        if (head.length > 0) upstream.write(head)
        join(client, upstream)
      })
    }

    app.server.on('upgrade', onUpgrade)
    app.addHook('onClose', async () => {
      app.server.off('upgrade', onUpgrade)
      // Upgraded sockets are no longer the HTTP server's: it would wait for them for ever.
      for (const socket of open) socket.destroy()
    })
  },
  { name: 'websocket-relay' },
)

/**
 * A TCP connection to a chat instance, trying each known one at most once; undefined when none
 * could be reached (or the client left meanwhile). One that refuses is skipped until its next
 * health check finds it again.
 */
async function reachChat(
  options: WebsocketRelayOptions,
  client: Duplex,
): Promise<Socket | undefined> {
  const tried = new Set<string>()
  for (let attempt = 0; attempt < 2 * options.chat.list().length + 1; attempt++) {
    const url = options.chat.pick()
    if (url === undefined || client.destroyed) return undefined
    if (tried.has(url)) continue
    tried.add(url)
    const upstream = await connectTo(url, options.connectTimeoutMs)
    if (!upstream) {
      options.chat.markDown(url)
      continue
    }
    // The client may have left while the instance was being reached.
    if (client.destroyed) upstream.destroy()
    return client.destroyed ? undefined : upstream
  }
  return undefined
}

function connectTo(url: string, timeoutMs: number): Promise<Socket | undefined> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) })
    const fail = () => {
      socket.destroy()
      resolve(undefined)
    }
    socket.setTimeout(timeoutMs, fail)
    socket.once('error', fail)
    socket.once('connect', () => {
      socket.setTimeout(0)
      socket.off('error', fail)
      resolve(socket)
    })
  })
}

/** The client's request line and headers as it sent them, with our X-Forwarded-* set. */
function requestHead(request: IncomingMessage, trust: TrustProxy): string {
  const lines = [`${request.method} ${request.url} HTTP/1.1`]
  const raw = request.rawHeaders
  for (let i = 0; i < raw.length; i += 2) {
    if (!FORWARDED.has((raw[i] as string).toLowerCase())) lines.push(`${raw[i]}: ${raw[i + 1]}`)
  }
  const encrypted = (request.socket as { encrypted?: boolean }).encrypted === true
  lines.push(`X-Forwarded-For: ${clientAddress(request, trust)}`)
  if (request.headers.host) lines.push(`X-Forwarded-Host: ${request.headers.host}`)
  const proto = forwardedProto(request, trust) ?? (encrypted ? 'https' : 'http')
  lines.push(`X-Forwarded-Proto: ${proto}`)
  return `${lines.join('\r\n')}\r\n\r\n`
}

/** Behind the edge, the protocol the client used is the edge's word, if the edge is trusted. */
function forwardedProto(request: IncomingMessage, trust: TrustProxy): string | undefined {
  const value = request.headers['x-forwarded-proto']
  // biome-ignore lint/complexity/useOptionalChain: `false` is not callable
  if (!trust || !trust(request.socket.remoteAddress ?? '', 0)) return undefined
  if (typeof value !== 'string') return undefined
  const last = value.split(',').at(-1)?.trim()
  return last === 'https' || last === 'http' ? last : undefined
}

/** Each side's bytes to the other; whichever side ends or breaks, both go. */
function join(client: Duplex, upstream: Socket) {
  ;(client as Socket).setNoDelay?.(true)
  upstream.setNoDelay(true)
  const end = () => {
    client.destroy()
    upstream.destroy()
  }
  client.on('error', end)
  upstream.on('error', end)
  client.on('close', end)
  upstream.on('close', end)
  client.pipe(upstream)
  upstream.pipe(client)
}

function refuse(client: Duplex, status: 404 | 503, detail: string) {
  if (client.destroyed) return
  const body = JSON.stringify({ detail })
  const reason = status === 404 ? 'Not Found' : 'Service Unavailable'
  client.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n` +
      `${status === 503 ? 'Retry-After: 1\r\n' : ''}\r\n${body}`,
  )
}
