import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createBotMetrics } from './bot-metrics.js'
import { createStockBot, type StockBot, type StockBotOptions } from './stock-bot.js'

declare module 'fastify' {
  interface FastifyInstance {
    bot: StockBot
  }
}

/**
 * The bot as a plugin: its metrics and readiness join the app's, and closing the app stops it.
 * Starting is left to the caller, who knows when the chat server is there to connect to.
 */
export function buildBot(options: StockBotOptions) {
  return fp(
    async (app: FastifyInstance) => {
      const bot = createStockBot(options, {
        logger: app.log.child({ component: 'bot' }),
        metrics: createBotMetrics(app.metrics),
      })
      app.decorate('bot', bot)
      app.readiness.add('chat', async () => bot.connected)
      app.addHook('onClose', () => bot.stop())
    },
    { name: 'finchat-bot', dependencies: ['finchat-health', 'finchat-metrics'] },
  )
}
