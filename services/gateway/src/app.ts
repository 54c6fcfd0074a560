import { apiDocsPlugin, openApiDocument, type TrustProxy, webUiPlugin } from '@finchat/kit'
import type { FastifyInstance } from 'fastify'
import { mergedDocument } from './docs/merged-document.js'
import { websocketRelayPlugin } from './relay/websocket-relay.plugin.js'
import { proxyRoutes } from './routes/proxy.routes.js'
import type { UpstreamPool } from './upstreams/upstream-pool.js'

export interface GatewayOptions {
  authUrl: string
  chat: UpstreamPool
  /** For an upstream to answer an HTTP request. */
  timeoutMs: number
  webRoot: string
  /** Whose X-Forwarded-* to believe; the same as the server's `trustProxy`. */
  trustProxy?: TrustProxy
}

/**
 * Port 8000 of a deployment: the web UI, the API docs, every API route proxied to the service
 * that owns it, and `/ws/chat` relayed byte for byte to a chat instance. Registered on a server from `createServer`, whose health and metrics
 * routes it keeps.
 */
export function buildGateway(options: GatewayOptions) {
  return async (app: FastifyInstance) => {
    app.readiness.add('chat', async () => options.chat.pick() !== undefined)
    await app.register(apiDocsPlugin, {
      document: mergedDocument(
        () => openApiDocument(app),
        [
          { name: 'auth', url: () => options.authUrl },
          { name: 'chat', url: () => options.chat.pick() },
        ],
        app.log,
      ),
    })
    await app.register(webUiPlugin, { root: options.webRoot })
    await app.register(proxyRoutes, options)
    await app.register(websocketRelayPlugin, {
      chat: options.chat,
      trustProxy: options.trustProxy ?? false,
      connectTimeoutMs: Math.min(options.timeoutMs, 2000),
    })
  }
}
