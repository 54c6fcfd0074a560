import { ConfigError, loadConfig, serverConfigFields, storageConfigFields } from '@finchat/kit'
import { type Static, Type } from '@sinclair/typebox'

export const BotConfigSchema = Type.Object({
  /** PORT serves health and metrics only; the bot itself is a client. */
  ...serverConfigFields(8003),
  /** The gateway, as `host:port` (the original's form) or a URL (`https://` for TLS). */
  FINBOT_HOST: Type.String({ default: 'localhost:8000' }),
  FINBOT_USERNAME: Type.String({ minLength: 1 }),
  FINBOT_PASSWORD: Type.String({ minLength: 1 }),
  /** Colon-separated room names; empty means every room on the server. */
  FINBOT_ROOMS: Type.String({ default: '' }),
  /** Consumer group on `chat:commands`; by default one per set of rooms (see README). */
  FINBOT_GROUP: Type.Optional(Type.String({ pattern: '^[^\\s]{1,200}$' })),
  FINBOT_QUOTE_URL: Type.String({ pattern: '^https?://', default: 'https://stooq.com' }),
  FINBOT_QUOTE_API_KEY: Type.Optional(Type.String()),
  FINBOT_QUOTE_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 60_000, default: 5000 }),
  FINBOT_QUOTE_RETRIES: Type.Integer({ minimum: 0, maximum: 5, default: 2 }),
  FINBOT_QUOTE_CACHE_MS: Type.Integer({ minimum: 0, default: 30_000 }),
  /** The daily history (the card's series) changes once a day: kept for hours, 6 by default. */
  FINBOT_HISTORY_TTL_MS: Type.Integer({ minimum: 0, maximum: 7 * 86_400_000, default: 21_600_000 }),
  FINBOT_COMMAND_MAX_AGE_MS: Type.Integer({ minimum: 1000, maximum: 300_000, default: 10_000 }),
  /** With it, commands come from the `chat:commands` stream; without, from the websocket. */
  REDIS_URL: storageConfigFields.REDIS_URL,
  REDIS_PREFIX: storageConfigFields.REDIS_PREFIX,
})

export type BotConfig = Static<typeof BotConfigSchema> & {
  rooms: string[]
  group: string
  httpUrl: string
  wsUrl: string
}

export function loadBotConfig(env: NodeJS.ProcessEnv = process.env): BotConfig {
  const config = loadConfig(BotConfigSchema, env)
  const rooms = [
    ...new Set(
      config.FINBOT_ROOMS.split(':')
        .map((room) => room.trim())
        .filter(Boolean),
    ),
  ]
  return {
    ...config,
    ...serverUrls(config.FINBOT_HOST),
    rooms,
    group:
      config.FINBOT_GROUP ?? (rooms.length ? `finbot:${[...rooms].sort().join(':')}` : 'finbot'),
  }
}

/** `localhost:8000` → `http://localhost:8000` and `ws://localhost:8000/ws/chat`. */
export function serverUrls(host: string): { httpUrl: string; wsUrl: string } {
  const written = /^https?:\/\//i.test(host) ? host : `http://${host}`
  let url: URL
  try {
    url = new URL(written)
  } catch {
    throw new ConfigError(`invalid configuration: FINBOT_HOST is not a host:port (${host})`)
  }
  if (url.pathname !== '/' || url.search || url.username) {
    throw new ConfigError(`invalid configuration: FINBOT_HOST must be a host:port (${host})`)
  }
  return {
    httpUrl: url.origin,
    wsUrl: `${url.protocol === 'https:' ? 'wss' : 'ws'}://${url.host}/ws/chat`,
  }
}
