import type { Bus, BusEntry, BusSubscription } from '@finchat/bus'
import { CustomCommand, STREAMS } from '@finchat/protocol'
import { Value } from '@sinclair/typebox/value'
import type { FastifyBaseLogger } from 'fastify'
import type { CommandHandler } from './command-handler.js'

export interface StreamCommandsOptions {
  bus: Bus
  /** Replicas in one group share its commands; each entry goes to one of them. */
  group: string
  /** Stable across restarts, so that a restarted bot gets back what it had not acknowledged. */
  consumer: string
  handler: CommandHandler
  /** Above the max age: an entry claimed from a dead replica is then dropped, not answered late. */
  claimIdleMs: number
  logger: FastifyBaseLogger
  /** Commands handled at once; reading waits beyond it. */
  maxPending?: number
}

/**
 * Commands from `chat:commands` through a consumer group. Batches are handed to the handler
 * without waiting for answers, so one slow quote does not hold up the commands behind it; each
 * entry is acknowledged once its answer is posted (or it is ignored), and left pending when
 * posting failed.
 */
export function consumeStreamCommands(options: StreamCommandsOptions): BusSubscription {
  const { bus, group, handler, logger } = options
  const maxPending = options.maxPending ?? 100

  const ack = (entry: BusEntry) =>
    bus.ack(STREAMS.chatCommands, group, [entry.id]).catch((err: unknown) => {
      logger.warn({ err, id: entry.id }, 'could not acknowledge a command')
    })

  return bus.consume<unknown>(
    STREAMS.chatCommands,
    group,
    options.consumer,
    async (entries) => {
      for (const entry of entries) {
        const data = entry.data
        if (!Value.Check(CustomCommand, data)) {
          logger.warn({ id: entry.id }, 'skipped a malformed command entry')
          await ack(entry)
          continue
        }
        while (handler.pending >= maxPending) await handler.settled()
        const command = {
          room: data.room,
          user: data.user,
          command: data.command,
          payload: data.payload,
          atMs: data.at_ms,
          key: entry.id,
        }
        handler.handle(command).then(
          () => ack(entry),
          (err: unknown) =>
            logger.warn({ err, id: entry.id }, 'command not answered; left pending'),
        )
      }
    },
    { start: '$', claimIdleMs: options.claimIdleMs, count: maxPending },
  )
}
