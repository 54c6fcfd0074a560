import { Counter, Histogram, type Registry } from 'prom-client'

/** What the bot counts; the core takes it as a dependency so tests and standalone can skip it. */
export interface BotMetrics {
  command(outcome: string): void
  /** `endpoint`: `quote` or `history`. */
  upstream(result: string, seconds: number, endpoint: string): void
}

export const noMetrics: BotMetrics = { command() {}, upstream() {} }

export function createBotMetrics(registry: Registry): BotMetrics {
  const commands = new Counter({
    name: 'finbot_commands_total',
    help: 'Custom commands seen by the bot, by outcome',
    labelNames: ['outcome'],
    registers: [registry],
  })
  const upstream = new Histogram({
    name: 'finbot_quote_request_duration_seconds',
    help: 'Requests to the quote service, by endpoint and result',
    labelNames: ['endpoint', 'result'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  })
  return {
    command(outcome) {
      commands.inc({ outcome })
    },
    upstream(result, seconds, endpoint) {
      upstream.observe({ endpoint, result }, seconds)
    },
  }
}
