import type { Bus } from '@finchat/bus'
import type { CustomNotification, MessageNotification, ServerFrame } from '@finchat/protocol'
import type { ChatClient } from '@finchat/protocol/client'
import { type FakeStooq, PASSWORD, type StackServer, startStack } from '@finchat/testing'
import type { FastifyBaseLogger } from 'fastify'
import { pino } from 'pino'
import type { Test } from 'tap'
import { serverUrls } from '../../src/config.js'
import { type CommandSource, createStockBot, type StockBotOptions } from '../../src/stock-bot.js'

export type SourceKind = CommandSource['kind']

/** Auth and chat on one port, as the gateway presents them to a bot. */
export async function startChatHost(t: Test) {
  const stack = await startStack(t, { combined: true })
  const server = stack.combined as StackServer
  return {
    ...stack,
    /** As FINBOT_HOST names it. */
    host: server.host,
    wsUrl: server.wsUrl,
    restart: (downMs?: number) => server.restart(downMs),
  }
}

export type ChatHost = Awaited<ReturnType<typeof startChatHost>>

/** What a bot wrote to its log, parsed, for assertions (and for failure messages). */
export function capturedLogger(): {
  logger: FastifyBaseLogger
  lines: Record<string, unknown>[]
  text: () => string
  /** Resolves at the first line (logged already or to come) that `match`es. */
  until(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<void>
} {
  const raw: string[] = []
  const waiters = new Set<(line: Record<string, unknown>) => void>()
  const logger = pino(
    { level: 'debug' },
    {
      write: (line: string) => {
        raw.push(line)
        const parsed = JSON.parse(line)
        for (const waiter of waiters) waiter(parsed)
      },
    },
  )
  return {
    logger,
    get lines() {
      return raw.map((line) => JSON.parse(line))
    },
    text: () => raw.join(''),
    until(match, timeoutMs = 10_000) {
      if (raw.some((line) => match(JSON.parse(line)))) return Promise.resolve()
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter)
          reject(new Error(`no such log line in ${timeoutMs} ms:\n${raw.join('')}`))
        }, timeoutMs)
        const waiter = (line: Record<string, unknown>) => {
          if (!match(line)) return
          clearTimeout(timer)
          waiters.delete(waiter)
          resolve()
        }
        waiters.add(waiter)
      })
    },
  }
}

export interface BotStart {
  username?: string
  rooms?: string[]
  source?: SourceKind
  /** Overrides of the quote settings (timeouts, retries, key). */
  quotes?: Partial<StockBotOptions['quotes']>
  maxAgeMs?: number
  group?: string
  /** The bus the bot's stream commands come on (a wrapper of the host's, to fail its acks). */
  bus?: Bus
  /** Whether its account is marked as a bot (allowed cards), as a deployed bot's is; yes. */
  markedBot?: boolean
}

/**
 * Registers the bot's account (if new, marked as a bot unless told) and starts a bot on `host`, its quotes from `stooq`.
 * Fast reconnection and retry timings, so that stories about failures stay short.
 */
export async function startBot(t: Test, host: ChatHost, stooq: FakeStooq, options: BotStart = {}) {
  const username = options.username ?? 'finbot'
  await host.register(username).catch(() => {})
  await host.accounts.setBot(username, options.markedBot ?? true)
  const log = capturedLogger()
  const source = options.source ?? 'socket'
  const commands: CommandSource =
    source === 'stream'
      ? { kind: 'stream', bus: options.bus ?? host.newBus(), group: options.group ?? 'finbot' }
      : { kind: 'socket' }
  const bot = createStockBot(
    {
      server: { host: host.host, ...serverUrls(host.host) },
      username,
      password: PASSWORD,
      rooms: options.rooms ?? ['investments'],
      commands,
      maxAgeMs: options.maxAgeMs ?? 10_000,
      quotes: {
        baseUrl: stooq.url,
        timeoutMs: 1000,
        retries: 2,
        retryBaseMs: 20,
        cacheMs: 0,
        ...options.quotes,
      },
      reconnect: { minMs: 50, maxMs: 500 },
    },
    { logger: log.logger },
  )
  t.teardown(() => bot.stop())
  await bot.start()
  return { bot, log, username }
}

export const customFrom =
  (user: string) =>
  (frame: ServerFrame): frame is CustomNotification =>
    frame.type === 'room:notification' && frame.code === 'custom' && frame.user === user

export const messageFrom =
  (user: string, room = 'investments') =>
  (frame: ServerFrame): frame is MessageNotification =>
    frame.type === 'room:notification' &&
    frame.code === 'message' &&
    frame.user === user &&
    frame.room_name === room

/** Posts `/command=payload` as `client` in `room` (the documented `message` form). */
export function ask(client: ChatClient, payload: string, room = 'investments', command = 'stock') {
  client.send({ type: 'message', room_name: room, command, payload })
}

/** The bot's next message in `room`, as `client` sees it, card included. */
export function messageSeenBy(
  client: ChatClient,
  bot = 'finbot',
  room = 'investments',
  timeoutMs = 5000,
): Promise<MessageNotification> {
  return client.next(messageFrom(bot, room), timeoutMs) as Promise<MessageNotification>
}

/** The bot's next answer in `room`, as `client` sees it. */
export async function answerSeenBy(
  client: ChatClient,
  bot = 'finbot',
  room = 'investments',
  timeoutMs = 5000,
): Promise<string> {
  return (await client.next(messageFrom(bot, room), timeoutMs)).body
}
