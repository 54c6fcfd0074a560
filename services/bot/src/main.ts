import { createBus } from '@finchat/bus'
import { runService } from '@finchat/kit'
import { buildBot } from './app.js'
import { BotStartError } from './chat/bot-start-error.js'
import { loadBotConfig } from './config.js'
import { stockBotOptions } from './deps.js'

await runService({
  loadConfig: () => loadBotConfig(),
  async setup(app, config) {
    const bus = config.REDIS_URL
      ? createBus({ redisUrl: config.REDIS_URL, prefix: config.REDIS_PREFIX, logger: app.log })
      : undefined
    if (bus) app.readiness.add('bus', bus.ping)
    await app.register(buildBot(stockBotOptions(config, { bus })))
    await app.ready()
    try {
      await app.bot.start()
    } catch (error) {
      if (!(error instanceof BotStartError)) throw error
      // The original bot's contract: a misconfigured bot says why in one line and exits.
      process.stderr.write(`finbot: ${error.message}\n`)
      await app.close()
      await bus?.close()
      process.exit(error.exitCode)
    }
    return { close: async () => bus?.close() }
  },
})
