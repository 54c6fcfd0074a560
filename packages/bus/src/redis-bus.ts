import { setTimeout as sleep } from 'node:timers/promises'
import { Redis, type RedisOptions } from 'ioredis'
import { createBatchRunner } from './batch-runner.js'
import {
  type BatchHandler,
  type Bus,
  type BusEntry,
  type BusSubscription,
  type ConsumeOptions,
  FencedOffError,
  type SubscribeOptions,
} from './bus.js'
import { claimInterval, defaultClaimIdleMs, defaultCount, defaultMaxLen } from './defaults.js'
import { type BusLogger, consoleLogger } from './logger.js'
import { serialize } from './serialize.js'
import { checkAfter, compareIds, parseId } from './stream-id.js'

export interface RedisBusOptions {
  /** redis:// URL; `redis` options apply on top of it. */
  url?: string
  redis?: RedisOptions
  /** Prepended to every stream key, e.g. so that tests do not see each other's streams. */
  prefix?: string
  /** Entries kept per stream, approximately (`XADD MAXLEN ~`). */
  maxLen?: number
  /** Longest wait of one blocking read; an idle subscriber also re-checks its stream this often. */
  blockMs?: number
  /** Most entries per batch (the default for consumers too). */
  count?: number
  logger?: BusLogger
}

type RawEntry = [id: string, fields: string[] | null]
type ReadReply = [key: string, entries: RawEntry[]][] | null

interface Loop {
  context: object
  runner: { readonly insideHandler: boolean }
  state: { position: string }
  /** One read and delivery; throws on Redis failures, after which the loop backs off and retries. */
  step: (redis: Redis, markReady: () => void) => Promise<void>
  onFailure: () => void
}

const dataField = 'data'

// KEYS: the stream, its fences (a hash). ARGV: fence, order, MAXLEN, data. Nil when refused.
const appendFencedLua = `
local last = redis.call('HGET', KEYS[2], ARGV[1])
if last and tonumber(ARGV[2]) <= tonumber(last) then return false end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', '${dataField}', ARGV[4])
`

// KEYS: the stream's fences. ARGV: fence, order.
const raiseFenceLua = `
local last = redis.call('HGET', KEYS[1], ARGV[1])
if not last or tonumber(ARGV[2]) > tonumber(last) then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
return 1
`

/** Where a stream's fences live: next to it, so that the prefix and a restart treat them alike. */
const fencesKey = (streamKey: string) => `${streamKey}:fences`

interface FencedCommands {
  finchatAppendFenced(...args: (string | number)[]): Promise<string | null>
}
const retryMinMs = 100
const retryMaxMs = 3000
const pingTimeoutMs = 1000

export function createRedisBus(options: RedisBusOptions): Bus {
  const prefix = options.prefix ?? ''
  const maxLen = options.maxLen ?? defaultMaxLen
  const blockMs = options.blockMs ?? 5000
  const count = options.count ?? defaultCount
  const logger = options.logger ?? consoleLogger
  // Stream keys are prefixed here, explicitly: ioredis' keyPrefix must not add a second prefix.
  // Appends made in the same tick (a batch of announcements) go to Redis in one write, which
  // wakes it once instead of once per entry.
  const redisOptions: RedisOptions = {
    ...options.redis,
    keyPrefix: '',
    enableAutoPipelining: true,
  }
  const commands = options.url ? new Redis(options.url, redisOptions) : new Redis(redisOptions)
  // EVALSHA, falling back to EVAL once after a Redis restart forgot the script.
  commands.defineCommand('finchatAppendFenced', { numberOfKeys: 2, lua: appendFencedLua })
  const fenced = commands as unknown as FencedCommands
  const subscriptions = new Set<BusSubscription>()
  let closed = false

  let connectionLost = false
  commands.on('error', (err) => {
    if (!connectionLost) logger.warn({ err }, 'bus: redis connection failed, reconnecting')
    connectionLost = true
  })
  commands.on('ready', () => {
    if (connectionLost) logger.info({}, 'bus: redis connection restored')
    connectionLost = false
  })

  function assertOpen(): void {
    if (closed) throw new Error('bus: closed')
  }

  // A blocking read holds its connection, so every loop has its own. On failure the loop drops it
  // and opens a fresh one rather than letting ioredis reconnect and silently resend the read: the
  // loop must first check where it stands (the stream or the group may be gone after a restart).
  function openLoopConnection(onError: (err: Error) => void): Redis {
    const redis = commands.duplicate({
      retryStrategy: () => null,
      enableAutoPipelining: false,
      // A reply this late means a dead connection that nobody reported.
      commandTimeout: blockMs + 10_000,
    })
    redis.on('error', onError)
    return redis
  }

  function openLoop(loop: Loop): BusSubscription {
    const controller = new AbortController()
    const { signal } = controller
    let markReady = () => {}
    const ready = new Promise<void>((resolve) => {
      markReady = resolve
    })
    let redis: Redis | undefined
    // Commands on a lost connection fail with a bare "Connection is closed"; this says why.
    let connectionError: Error | undefined
    const done = (async () => {
      let retryMs = retryMinMs
      let failing = false
      while (!signal.aborted) {
        try {
          redis ??= openLoopConnection((err) => {
            connectionError = err
          })
          await loop.step(redis, markReady)
          if (failing) logger.info(loop.context, 'bus: reading resumed')
          failing = false
          retryMs = retryMinMs
        } catch (err) {
          if (signal.aborted) break
          if (!failing) {
            logger.warn({ ...loop.context, err, connectionError }, 'bus: reading failed, retrying')
          }
          failing = true
          redis?.disconnect()
          redis = undefined
          connectionError = undefined
          loop.onFailure()
          await sleep(retryMs, undefined, { signal }).catch(() => {})
          retryMs = Math.min(retryMs * 2, retryMaxMs)
        }
      }
      redis?.disconnect()
    })()
    const subscription: BusSubscription = {
      get position() {
        return loop.state.position
      },
      ready,
      async close() {
        controller.abort()
        // Ends a blocking read at once instead of waiting for its timeout.
        redis?.disconnect()
        markReady()
        subscriptions.delete(subscription)
        if (!loop.runner.insideHandler) await done
      },
    }
    subscriptions.add(subscription)
    return subscription
  }

  function decode<T>(
    raw: RawEntry[],
    context: object,
  ): { entries: BusEntry<T>[]; skipped: string[] } {
    const entries: BusEntry<T>[] = []
    const skipped: string[] = []
    for (const [id, fields] of raw) {
      if (!fields) {
        skipped.push(id)
        logger.warn({ ...context, id }, 'bus: skipping an entry trimmed while pending')
        continue
      }
      try {
        const at = fields.indexOf(dataField)
        if (at < 0 || at % 2 === 1) throw new Error(`entry has no ${dataField} field`)
        entries.push({ id, data: JSON.parse(fields[at + 1] as string) as T })
      } catch (err) {
        skipped.push(id)
        logger.error({ ...context, id, err }, 'bus: skipping an unreadable entry')
      }
    }
    return { entries, skipped }
  }

  /** The id the stream's next entry will be greater than; null when the stream does not exist. */
  async function lastGeneratedId(redis: Redis, key: string): Promise<string | null> {
    try {
      const info = (await redis.call('XINFO', 'STREAM', key)) as unknown[]
      return String(info[info.indexOf('last-generated-id') + 1])
    } catch (err) {
      if (err instanceof Error && /no such key/i.test(err.message)) return null
      throw err
    }
  }

  return {
    async append(stream, data, fence) {
      assertOpen()
      const json = serialize(data)
      const key = prefix + stream
      if (fence) {
        const id = await fenced.finchatAppendFenced(
          key,
          fencesKey(key),
          fence.key,
          fence.order,
          maxLen,
          json,
        )
        if (id === null) throw new FencedOffError(stream, fence)
        return id
      }
      const id = await commands.xadd(key, 'MAXLEN', '~', maxLen, '*', dataField, json)
      // XADD only answers null with NOMKSTREAM, which is not used.
      return id as string
    },

    async raiseFence(stream, fence, order) {
      assertOpen()
      await commands.eval(raiseFenceLua, 1, fencesKey(prefix + stream), fence, order)
    },

    async range<T = unknown>(stream: string, after: string, count: number) {
      assertOpen()
      parseId(after)
      const raw = (await commands.call(
        'XRANGE',
        prefix + stream,
        `(${after}`,
        '+',
        'COUNT',
        count,
      )) as RawEntry[]
      return decode<T>(raw, { stream }).entries
    },

    subscribe<T = unknown>(
      stream: string,
      onBatch: BatchHandler<T>,
      subscribeOptions: SubscribeOptions = {},
    ) {
      assertOpen()
      const key = prefix + stream
      const context = { stream }
      const state = { position: checkAfter(subscribeOptions.after ?? '$') }
      const { linger } = subscribeOptions
      const runner = createBatchRunner(onBatch, logger, context)
      let verify = false

      // The stream's last id is below our position only when it was recreated, e.g. by a Redis
      // restart without persistence: new entries may then have smaller ids than those we saw.
      async function checkPosition(redis: Redis): Promise<void> {
        const last = await lastGeneratedId(redis, key)
        const behind =
          last === null
            ? compareIds(state.position, '0-0') > 0
            : compareIds(last, state.position) < 0
        if (!behind) return
        logger.warn(
          { ...context, position: state.position, streamLastId: last },
          'bus: stream was recreated, reading it from the start; events may have been lost',
        )
        state.position = '0-0'
      }

      return openLoop({
        context,
        runner,
        state,
        async step(redis, markReady) {
          if (state.position === '$') state.position = (await lastGeneratedId(redis, key)) ?? '0-0'
          else if (verify) await checkPosition(redis)
          verify = false
          markReady()
          const reply = (await redis.call(
            'XREAD',
            'COUNT',
            count,
            'BLOCK',
            blockMs,
            'STREAMS',
            key,
            state.position,
          )) as ReadReply
          const raw = reply?.[0]?.[1] ?? []
          const last = raw.at(-1)
          if (!last) {
            verify = true
            return
          }
          state.position = last[0]
          const { entries } = decode<T>(raw, context)
          if (entries.length > 0) await runner.run(entries)
          if (linger && raw.length >= linger.entries) await sleep(linger.ms)
        },
        onFailure() {
          verify = true
        },
      })
    },

    consume<T = unknown>(
      stream: string,
      group: string,
      consumer: string,
      onBatch: BatchHandler<T>,
      consumeOptions: ConsumeOptions = {},
    ) {
      assertOpen()
      const key = prefix + stream
      const batchSize = consumeOptions.count ?? count
      const claimIdleMs = consumeOptions.claimIdleMs ?? defaultClaimIdleMs
      const claimEveryMs = claimInterval(claimIdleMs)
      const context = { stream, group, consumer }
      const state = { position: '0-0' }
      const runner = createBatchRunner(onBatch, logger, context)
      let phase: 'group' | 'own' | 'live' = 'group'
      let groupStart: string = consumeOptions.start ?? '$'
      let ownCursor = '0'
      let claimCursor = '0-0'
      let nextClaimAt = 0

      async function deliver(redis: Redis, raw: RawEntry[]): Promise<void> {
        const last = raw.at(-1)
        if (!last) return
        state.position = last[0]
        const { entries, skipped } = decode<T>(raw, context)
        // Nobody can ever handle these; left pending they would be claimed again forever.
        if (skipped.length > 0) await redis.call('XACK', key, group, ...skipped)
        if (entries.length > 0) await runner.run(entries)
      }

      /** The group's entries after `cursor`: its own pending ones, or `>` for new ones. */
      async function readGroup(redis: Redis, block: (string | number)[], cursor: string) {
        const reply = (await redis.call(
          'XREADGROUP',
          'GROUP',
          group,
          consumer,
          'COUNT',
          batchSize,
          ...block,
          'STREAMS',
          key,
          cursor,
        )) as ReadReply
        return reply?.[0]?.[1] ?? []
      }

      async function step(redis: Redis, markReady: () => void): Promise<void> {
        if (phase === 'group') {
          try {
            await redis.call('XGROUP', 'CREATE', key, group, groupStart, 'MKSTREAM')
          } catch (err) {
            if (!(err instanceof Error && err.message.startsWith('BUSYGROUP'))) throw err
          }
          markReady()
          phase = 'own'
          ownCursor = '0'
        }
        if (phase === 'own') {
          const raw = await readGroup(redis, [], ownCursor)
          const last = raw.at(-1)
          if (last) {
            ownCursor = last[0]
            return deliver(redis, raw)
          }
          phase = 'live'
        }
        const now = Date.now()
        if (now >= nextClaimAt) {
          const [cursor, raw] = (await redis.call(
            'XAUTOCLAIM',
            key,
            group,
            consumer,
            claimIdleMs,
            claimCursor,
            'COUNT',
            batchSize,
          )) as [string, RawEntry[]]
          claimCursor = cursor
          if (cursor === '0-0') nextClaimAt = now + claimEveryMs
          if (raw.length > 0) return deliver(redis, raw)
        }
        const block = Math.max(1, Math.min(blockMs, nextClaimAt - Date.now()))
        await deliver(redis, await readGroup(redis, ['BLOCK', block], '>'))
      }

      return openLoop({
        context,
        runner,
        state,
        async step(redis, markReady) {
          try {
            await step(redis, markReady)
          } catch (err) {
            if (!(err instanceof Error && err.message.startsWith('NOGROUP'))) throw err
            // Without persistence a Redis restart loses the group. Whatever the stream holds now
            // was appended since, so the new group starts at its beginning.
            logger.warn({ ...context }, 'bus: consumer group is gone, creating it again')
            phase = 'group'
            groupStart = '0'
          }
        },
        onFailure() {
          // A read whose reply was lost still left its entries pending for us: read those again.
          if (phase === 'live') phase = 'own'
          ownCursor = '0'
        },
      })
    },

    async ack(stream, group, ids) {
      if (ids.length > 0) await commands.xack(prefix + stream, group, ...ids)
    },

    async ping() {
      if (commands.status !== 'ready') return false
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<false>((resolve) => {
        timer = setTimeout(resolve, pingTimeoutMs, false)
      })
      try {
        return await Promise.race([commands.ping().then((reply) => reply === 'PONG'), timeout])
      } catch {
        return false
      } finally {
        clearTimeout(timer)
      }
    },

    async close() {
      closed = true
      await Promise.all([...subscriptions].map((subscription) => subscription.close()))
      if (commands.status === 'ready') await commands.quit().catch(() => commands.disconnect())
      else commands.disconnect()
    },
  }
}
