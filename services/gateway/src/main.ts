import { runService } from '@finchat/kit'
import { buildGateway } from './app.js'
import { loadGatewayConfig } from './config.js'
import { createUpstreamPool } from './upstreams/upstream-pool.js'

await runService({
  loadConfig: () => loadGatewayConfig(),
  server: (config) => ({ trustProxy: config.trustProxy, title: 'Financial Chat' }),
  async setup(app, config) {
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
    return { close: async () => chat.stop() }
  },
})
