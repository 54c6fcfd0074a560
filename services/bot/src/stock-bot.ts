import type { Bus, BusSubscription } from '@finchat/bus'
import type { FastifyBaseLogger } from 'fastify'
import { type BotMetrics, noMetrics } from './bot-metrics.js'
import { createChatSession } from './chat/chat-session.js'
import { createCommandHandler } from './commands/command-handler.js'
import { consumeStreamCommands } from './commands/stream-commands.js'
import { createHistoryCache, createQuoteCache } from './quotes/quote-cache.js'
import { createStooqClient, createStooqHistoryClient } from './quotes/stooq-client.js'

/** Where the bot takes commands from: the shared stream, or its own websocket. */
export type CommandSource = { kind: 'socket' } | { kind: 'stream'; bus: Bus; group: string }

export interface StockBotOptions {
  server: { host: string; httpUrl: string; wsUrl: string }
  username: string
  password: string
  /** Empty: every room the server lists. */
  rooms: string[]
  commands: CommandSource
  maxAgeMs: number
  quotes: {
    baseUrl: string
    apiKey?: string
    timeoutMs: number
    retries: number
    retryBaseMs: number
    cacheMs: number
    /** How long a daily history is reused; by default 6 hours. */
    historyCacheMs?: number
  }
  reconnect?: { minMs: number; maxMs: number }
}

export interface StockBot {
  /** Rejects with a BotStartError when the bot cannot work as configured. */
  start(): Promise<void>
  /** Stops taking commands, lets the ones in hand be answered, then disconnects. */
  stop(): Promise<void>
  readonly connected: boolean
}

/** The stock bot: an ordinary chat user that answers `/stock=SYMBOL` (up to 5, comma-separated) in its rooms. */
export function createStockBot(
  options: StockBotOptions,
  infra: { logger: FastifyBaseLogger; metrics?: BotMetrics },
): StockBot {
  const { logger } = infra
  const metrics = infra.metrics ?? noMetrics
  const session = createChatSession({
    ...options.server,
    username: options.username,
    password: options.password,
    rooms: options.rooms,
    logger,
    reconnect: options.reconnect,
  })
  const quotes = createQuoteCache(createStooqClient({ ...options.quotes, logger, metrics }), {
    ttlMs: options.quotes.cacheMs,
  })
  const history = createHistoryCache(
    createStooqHistoryClient({ ...options.quotes, logger, metrics }),
    { ttlMs: options.quotes.historyCacheMs ?? 6 * 3_600_000 },
  )
  const handler = createCommandHandler({
    session,
    quotes,
    history,
    maxAgeMs: options.maxAgeMs,
    logger,
    metrics,
  })
  let subscription: BusSubscription | undefined
  let stopped: Promise<void> | undefined

  return {
    async start() {
      await session.start()
      const source = options.commands
      if (source.kind === 'stream') {
        subscription = consumeStreamCommands({
          bus: source.bus,
          group: source.group,
          consumer: options.username,
          handler,
          claimIdleMs: options.maxAgeMs + 5000,
          logger,
        })
        await subscription.ready
      } else {
        session.onCustom((notification) => {
          if (notification.you) return
          handler
            .handle({
              room: notification.room_name,
              user: notification.user,
              command: notification.command,
              payload: notification.payload,
              atMs: Date.now(),
            })
            .catch((err: unknown) => logger.warn({ err }, 'command not answered'))
        })
      }
      logger.info({ commands: source.kind }, 'the stock bot is answering /stock')
    },
    stop() {
      stopped ??= (async () => {
        await subscription?.close()
        await handler.drain()
        await session.stop()
      })()
      return stopped
    },
    get connected() {
      return session.connected
    },
  }
}
