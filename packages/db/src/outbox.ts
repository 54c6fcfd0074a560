import type { ColumnType, Generated, Kysely } from 'kysely'
import { sql } from 'kysely'

/**
 * The `outbox` table of a service's schema (each service creates its own in a migration of its
 * own, with `createOutboxTable`): announcements written in the same transaction as the change
 * they announce, so that the change and its announcement happen together or not at all.
 */
export interface OutboxTable {
  id: Generated<number>
  topic: string
  payload: ColumnType<unknown, string, never>
  created_at: ColumnType<Date, never, never>
}

export interface OutboxDatabase {
  outbox: OutboxTable
}

/** For a service's migration: the table, in that service's schema. Frozen once released. */
export async function createOutboxTable(db: Kysely<any>, schema: string): Promise<void> {
  await db.schema
    .withSchema(schema)
    .createTable('outbox')
    .addColumn('id', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('topic', 'text', (col) => col.notNull())
    .addColumn('payload', 'jsonb', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute()
}

/** Carries one announcement out (to Redis, the bus…); throws when it could not. */
export type Deliver<Topics> = <K extends keyof Topics & string>(
  topic: K,
  payload: Topics[K],
) => Promise<void>

/**
 * Writes an announcement in `trx`, the transaction of the change it announces: any process with
 * the database can (a CLI too); the service's relay carries it out.
 */
export async function writeToOutbox<Topics, K extends keyof Topics & string>(
  trx: Kysely<OutboxDatabase> | Kysely<never>,
  topic: K,
  payload: Topics[K],
): Promise<void> {
  await (trx as unknown as Kysely<OutboxDatabase>)
    .insertInto('outbox')
    .values({ topic, payload: JSON.stringify(payload) })
    .execute()
}

export interface OutboxRelayOptions<Topics> {
  /** The service's schema-bound handle (its tables include `outbox`). */
  db: Kysely<OutboxDatabase> | Kysely<never>
  deliver: Deliver<Topics>
  /** A delivery not settled by then counts as failed (it may still land: delivery is at least once). */
  deliveryTimeoutMs?: number
  /** How often the table is looked at: for what other processes wrote, and to retry. */
  pollMs?: number
  log: { warn(obj: object, msg: string): void }
}

const BATCH = 100

/**
 * Relays a service's announcements until they are delivered: at once after a change of this
 * process commits (`flush`), and every `pollMs` (what a CLI wrote, what failed). Delivered in the
 * order written, at least once (two processes relaying the same table, or a delivery timed out
 * that lands later, deliver twice): deliveries must be idempotent.
 */
export function createOutboxRelay<Topics>(options: OutboxRelayOptions<Topics>) {
  const db = options.db as unknown as Kysely<OutboxDatabase>
  const { deliver, log } = options
  const deliveryTimeoutMs = options.deliveryTimeoutMs ?? 2000
  const pollMs = options.pollMs ?? 1000
  let running: Promise<boolean> | undefined
  let queued: Promise<boolean> | undefined
  let timer: NodeJS.Timeout | undefined

  function withTimeout(delivery: Promise<void>): Promise<void> {
    let timeout: NodeJS.Timeout | undefined
    return Promise.race([
      delivery,
      new Promise<never>((_, reject) => {
        timeout = setTimeout(
          () => reject(new Error(`delivery not settled in ${deliveryTimeoutMs} ms`)),
          deliveryTimeoutMs,
        )
      }),
    ]).finally(() => clearTimeout(timeout))
  }

  /** Delivers in order until none is left (true) or one fails (false: the rest waits). */
  async function relay(): Promise<boolean> {
    for (;;) {
      const rows = await db
        .selectFrom('outbox')
        .select(['id', 'topic', 'payload'])
        .orderBy('id')
        .limit(BATCH)
        .execute()
      if (rows.length === 0) return true
      const delivered: number[] = []
      let failed = false
      for (const row of rows) {
        try {
          await withTimeout(deliver(row.topic as keyof Topics & string, row.payload as never))
          delivered.push(row.id)
        } catch (err) {
          log.warn({ err, topic: row.topic, outbox: row.id }, 'announcement not delivered yet')
          failed = true
          break
        }
      }
      if (delivered.length > 0) await db.deleteFrom('outbox').where('id', 'in', delivered).execute()
      if (failed) return false
    }
  }

  function runOnce(): Promise<boolean> {
    const pass: Promise<boolean> = relay()
      .catch((err) => {
        log.warn({ err }, 'outbox not readable')
        return false
      })
      .then((done) => {
        if (running === pass) running = undefined
        return done
      })
    running = pass
    return pass
  }

  /**
   * Relays what waits, including what was written before the call (a relay under way may have
   * read the table before: one more follows it); true when nothing is left. Never throws: what
   * could not be delivered is retried every `pollMs`.
   */
  function flush(): Promise<boolean> {
    if (!running) return runOnce()
    queued ??= running.then(() => {
      queued = undefined
      return running ? flush() : runOnce()
    })
    return queued
  }

  return {
    flush,
    /** Relays what an earlier run (or another process) left, then looks again every `pollMs`. */
    start(): void {
      if (timer) return
      void flush()
      timer = setInterval(() => void flush(), pollMs)
      timer.unref()
    },
    /** Stops looking; waits for a relay under way. */
    async stop(): Promise<void> {
      clearInterval(timer)
      timer = undefined
      await queued
      await running
    },
  }
}

export type OutboxRelay = ReturnType<typeof createOutboxRelay>
