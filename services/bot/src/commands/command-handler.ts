import type { FastifyBaseLogger } from 'fastify'
import { type BotMetrics, noMetrics } from '../bot-metrics.js'
import type { ChatSession } from '../chat/chat-session.js'
import {
  type HistorySource,
  type QuoteResult,
  type QuoteSource,
  symbolOf,
} from '../quotes/quote-source.js'
import { quoteCard } from './quote-card.js'
import { MAX_SYMBOLS, stockAnswer, TOO_MANY_SYMBOLS } from './stock-answers.js'

/** A custom command, whichever way it reached the bot (stream entry or websocket notification). */
export interface BotCommand {
  room: string
  user: string
  command: string
  payload: string
  /** When it was posted, epoch ms. */
  atMs: number
  /**
   * Where the command's source gives it a stable identity (the stream entry's id): its answer
   * is posted under the client id `stock:<key>`, so a command delivered twice (claimed again
   * after a replica died between answering and acknowledging) is answered once.
   */
  key?: string
}

export type CommandOutcome = 'answered' | 'ignored' | 'not-joined' | 'expired'

export interface CommandHandlerOptions {
  session: Pick<ChatSession, 'isJoined' | 'say'>
  quotes: QuoteSource
  /** Daily closes for the card; without it, cards carry no series. */
  history?: HistorySource
  /** A command not answered this long after it was posted is dropped instead of answered late. */
  maxAgeMs: number
  logger: FastifyBaseLogger
  metrics?: BotMetrics
  now?: () => number
}

export interface CommandHandler {
  /** Resolves once the answer is posted (or the command is ignored); rejects if posting failed. */
  handle(command: BotCommand): Promise<CommandOutcome>
  /** Commands being handled now. */
  readonly pending: number
  /** Resolves when any pending command settles. */
  settled(): Promise<void>
  /** Resolves when every pending command has settled. */
  drain(): Promise<void>
}

/** Kept for posting the answer, so that the whole exchange fits within the max age. */
const POST_MARGIN_MS = 500

const NOT_FOUND: QuoteResult = { kind: 'not-found' }
const TIMED_OUT: QuoteResult = { kind: 'unavailable', reason: 'timeout' }

/** The one place where a command becomes an answer, for both command sources. */
export function createCommandHandler(options: CommandHandlerOptions): CommandHandler {
  const { session, quotes, logger } = options
  const metrics = options.metrics ?? noMetrics
  const now = options.now ?? Date.now
  const pending = new Set<Promise<unknown>>()

  async function run(command: BotCommand): Promise<CommandOutcome> {
    const context = { room: command.room, user: command.user, command: command.command }
    if (command.command.trim().toLowerCase() !== 'stock') {
      logger.info(context, 'ignored a command other than /stock')
      return 'ignored'
    }
    if (!session.isJoined(command.room)) return 'not-joined'
    const deadline = command.atMs + options.maxAgeMs
    const budget = deadline - POST_MARGIN_MS - now()
    if (budget <= 0) {
      logger.warn(
        { ...context, ageMs: now() - command.atMs },
        'dropped a command too old to answer',
      )
      return 'expired'
    }
    const clientId = (n?: number) =>
      command.key === undefined ? undefined : `stock:${command.key}${n ? `:${n}` : ''}`
    const asked = askedSymbols(command.payload)
    if (asked.length > MAX_SYMBOLS) {
      await session.say(command.room, TOO_MANY_SYMBOLS, deadline, clientId())
      logger.info({ ...context, symbols: asked.length }, 'answered /stock: too many symbols')
      return 'answered'
    }
    // Every lookup starts now, quotes and histories at once; answers go out in the order asked.
    const lookups = asked.map((shown) => {
      const symbol = symbolOf(shown)
      if (symbol === null) return { shown, symbol, quote: Promise.resolve(NOT_FOUND) }
      return {
        shown,
        symbol,
        quote: within(quotes.lookup(symbol), budget),
        history: options.history?.lookup(symbol),
      }
    })
    for (const [n, lookup] of lookups.entries()) {
      const result = await lookup.quote
      // The history only if it is in already: a card never makes the answer later.
      const history = result.kind === 'found' ? await ifSettled(lookup.history) : undefined
      const card = result.kind === 'found' ? quoteCard(result, history) : undefined
      const answer = stockAnswer(lookup.shown, result)
      await session.say(
        command.room,
        answer,
        deadline,
        clientId(asked.length > 1 ? n + 1 : 0),
        card,
      )
      logger.info(
        {
          ...context,
          symbol: lookup.symbol,
          result: result.kind,
          card: card !== undefined,
          // For a found quote: the history's result, or `late` when it was not in yet.
          history: result.kind === 'found' ? (history?.kind ?? 'late') : undefined,
        },
        'answered /stock',
      )
    }
    return 'answered'
  }

  return {
    handle(command) {
      const outcome = run(command).then(
        (result) => {
          metrics.command(result)
          return result
        },
        (error: unknown) => {
          metrics.command('failed')
          throw error
        },
      )
      const tracked = outcome.catch(() => {})
      pending.add(tracked)
      void tracked.then(() => pending.delete(tracked))
      return outcome
    },
    get pending() {
      return pending.size
    },
    async settled() {
      await Promise.race(pending)
    },
    async drain() {
      await Promise.all(pending)
    },
  }
}

/**
 * The symbols of a payload as written, in order: comma-separated, blanks dropped. A payload
 * without a comma is one symbol, kept exactly as written for the not-found answer.
 */
function askedSymbols(payload: string): string[] {
  if (!payload.includes(',')) return [payload]
  const parts = payload
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
  return parts.length > 0 ? parts : [payload]
}

/** A promise's value if it has settled already (a cached answer, or one come first), else undefined. */
function ifSettled<T>(promise: Promise<T> | undefined): Promise<T | undefined> {
  if (promise === undefined) return Promise.resolve(undefined)
  // `promise` comes first in the race: settled, its reaction is queued before the other's.
  return Promise.race([promise, Promise.resolve(undefined)])
}

/** The lookup's result, or a timeout once `ms` have passed (the lookup itself goes on, shared). */
async function within(lookup: Promise<QuoteResult>, ms: number): Promise<QuoteResult> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<QuoteResult>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms)
  })
  try {
    return await Promise.race([lookup, deadline])
  } finally {
    clearTimeout(timer)
  }
}
