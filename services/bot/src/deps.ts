import type { Bus } from '@finchat/bus'
import type { BotConfig } from './config.js'
import type { StockBotOptions } from './stock-bot.js'

/** The bot's options from its configuration; `bus` is given exactly when REDIS_URL is set. */
export function stockBotOptions(config: BotConfig, infra: { bus?: Bus }): StockBotOptions {
  return {
    server: { host: config.FINBOT_HOST, httpUrl: config.httpUrl, wsUrl: config.wsUrl },
    username: config.FINBOT_USERNAME,
    password: config.FINBOT_PASSWORD,
    rooms: config.rooms,
    commands: infra.bus
      ? { kind: 'stream', bus: infra.bus, group: config.group }
      : { kind: 'socket' },
    maxAgeMs: config.FINBOT_COMMAND_MAX_AGE_MS,
    quotes: {
      baseUrl: config.FINBOT_QUOTE_URL,
      apiKey: config.FINBOT_QUOTE_API_KEY,
      timeoutMs: config.FINBOT_QUOTE_TIMEOUT_MS,
      retries: config.FINBOT_QUOTE_RETRIES,
      retryBaseMs: 200,
      cacheMs: config.FINBOT_QUOTE_CACHE_MS,
      historyCacheMs: config.FINBOT_HISTORY_TTL_MS,
    },
  }
}
