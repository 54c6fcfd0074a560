import { createServer, exitOnConfigError, listenWithGrace } from '@finchat/kit'
import { buildGateway } from './app.js'
import { type GatewayConfig, loadGatewayConfig } from './config.js'
import { createUpstreamPool } from './upstreams/upstream-pool.js'

let config: GatewayConfig
try {
  config = loadGatewayConfig()
} catch (error) {
  exitOnConfigError(error)
}

const app = await createServer({
  logLevel: config.LOG_LEVEL,
  trustProxy: config.trustProxy,
  title: 'Financial Chat',
})
const chat = createUpstreamPool({
  urls: config.chatUrls,
  resolveEveryMs: config.CHAT_RESOLVE_INTERVAL_MS,
  checkEveryMs: config.CHAT_CHECK_INTERVAL_MS,
  logger: app.log,
})
await chat.start()
await app.register(
  buildGateway({
    authUrl: config.AUTH_URL,
    chat,
    timeoutMs: config.UPSTREAM_TIMEOUT_MS,
    webRoot: config.WEB_ROOT,
    trustProxy: config.trustProxy,
  }),
)
await listenWithGrace(app, {
  port: config.PORT,
  host: config.HOST,
  onClosed: async () => chat.stop(),
})
