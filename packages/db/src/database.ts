import { mkdir } from 'node:fs/promises'
import { PGlite } from '@electric-sql/pglite'
import { Kysely, PostgresDialect, sql } from 'kysely'
import { PGliteDialect } from 'kysely-pglite-dialect'
import pg from 'pg'
import { findDataDirHolder, lockDataDir } from './data-dir-lock.js'
import { preparingPool } from './prepared-statements.js'

export interface DatabaseConfig {
  /** A PostgreSQL connection string; without one, PGlite runs in-process. */
  url?: string
  /**
   * PGlite data directory, without `url`: the server serving it when one runs (a `pnpm start`),
   * else opened in-process for as long as the database is open. In memory when absent.
   */
  dataDir?: string
  /**
   * `url` is PGlite served by embedded-server.ts: one session that every client shares, which
   * takes no session settings (PGlite ignores them) and must keep its connections (a session
   * lock would outlive one closed while holding it).
   */
  embedded?: boolean
  poolMax?: number
  /** PostgreSQL only (PGlite is one session, nobody else to wait for). */
  timeouts?: Partial<DatabaseTimeouts>
}

/**
 * How long anything may wait on PostgreSQL, in milliseconds (0: no limit). Every wait ends, so
 * that a stalled peer (a process frozen by SIGSTOP or a VM pause while holding locks) costs the
 * others errors within seconds instead of a hang until PostgreSQL notices, hours later.
 */
export interface DatabaseTimeouts {
  /** For a connection: one from the pool, or a new one (node-pg's `connectionTimeoutMillis`). */
  connectMs: number
  /** For one statement, waits for locks included (`statement_timeout`). */
  statementMs: number
  /** For one lock, advisory locks included (`lock_timeout`). */
  lockMs: number
  /**
   * Of a session inside a transaction without a statement (`idle_in_transaction_session_timeout`):
   * PostgreSQL ends it, and the transaction's locks go with it.
   */
  idleInTransactionMs: number
  /**
   * Of a session outside a transaction (`idle_session_timeout`): PostgreSQL ends it, and its
   * session-level advisory locks go with it, which chat's writer holds between two statements.
   * The pool closes its own idle connections well before (half of it), so that only sessions
   * held by a stalled process reach it.
   */
  idleSessionMs: number
}

export const defaultDatabaseTimeouts: DatabaseTimeouts = {
  connectMs: 5000,
  statementMs: 10_000,
  lockMs: 5000,
  idleInTransactionMs: 10_000,
  idleSessionMs: 10_000,
}

/**
 * Migrations have no statement or lock limit: one may rewrite a large table, and instances
 * starting together wait for each other's (Kysely's migration lock). A frozen migrator's session
 * still ends.
 */
export const migrationTimeouts = (timeouts: Partial<DatabaseTimeouts> = {}) => ({
  ...timeouts,
  statementMs: 0,
  lockMs: 0,
})

/** The settings given to every session at connection, as PostgreSQL's startup `options`. */
function sessionOptions(timeouts: DatabaseTimeouts): string {
  return [
    `-c statement_timeout=${timeouts.statementMs}`,
    `-c lock_timeout=${timeouts.lockMs}`,
    `-c idle_in_transaction_session_timeout=${timeouts.idleInTransactionMs}`,
    `-c idle_session_timeout=${timeouts.idleSessionMs}`,
  ].join(' ')
}

export interface Database {
  /** Schema-less root handle: each service narrows it with `withSchema` to its own schema. */
  db: Kysely<unknown>
  kind: 'postgres' | 'pglite'
  ping(): Promise<boolean>
  close(): Promise<void>
}

const INT8_OID = 20

// Ids are bigints in SQL but stay far below 2^53: numbers are what the wire protocol carries.
const parseInt8 = (value: string) => Number(value)

const getTypeParser = ((oid: number, format?: 'text' | 'binary') =>
  oid === INT8_OID
    ? parseInt8
    : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser

export async function createDatabase(config: DatabaseConfig): Promise<Database> {
  if (!config.url && config.dataDir) {
    const served = await findDataDirHolder(config.dataDir)
    if (served?.url) return createDatabase({ url: served.url, embedded: true })
  }
  let db: Kysely<unknown>
  let kind: Database['kind']
  let release = async () => {}
  if (config.embedded && config.url) {
    const pool = new pg.Pool({
      connectionString: config.url,
      // One session, whatever the number of clients: the locks of chat's writer and the
      // transactions of the others keep their meaning only on one connection, as in-process.
      max: config.poolMax ?? 1,
      connectionTimeoutMillis: defaultDatabaseTimeouts.connectMs,
      idleTimeoutMillis: 0,
      types: { getTypeParser },
    })
    pool.on('error', () => {})
    pool.on('connect', (client) => client.on('error', () => {}))
    db = new Kysely({
      dialect: new PostgresDialect({ pool: preparingPool(pool, { sharedSession: true }) }),
    })
    kind = 'pglite'
  } else if (config.url) {
    const given = Object.entries(config.timeouts ?? {}).filter(([, ms]) => ms !== undefined)
    const timeouts: DatabaseTimeouts = { ...defaultDatabaseTimeouts, ...Object.fromEntries(given) }
    const pool = new pg.Pool({
      connectionString: config.url,
      max: config.poolMax ?? 10,
      connectionTimeoutMillis: timeouts.connectMs,
      // node-pg's default (10 s), or less: idle in the pool must end before idle_session_timeout.
      idleTimeoutMillis:
        timeouts.idleSessionMs > 0 ? Math.min(10_000, timeouts.idleSessionMs / 2) : 10_000,
      options: sessionOptions(timeouts),
      types: { getTypeParser },
    })
    // A client losing its server (restart) must not crash the process: idle ones report it on
    // the pool, ones in use (checked out, between two queries) on themselves; the query that
    // needed the connection fails on its own.
    pool.on('error', () => {})
    pool.on('connect', (client) => client.on('error', () => {}))
    db = new Kysely({ dialect: new PostgresDialect({ pool: preparingPool(pool) }) })
    kind = 'postgres'
  } else {
    if (config.dataDir) await mkdir(config.dataDir, { recursive: true })
    const lock = config.dataDir ? await lockDataDir(config.dataDir) : undefined
    try {
      const pglite = await PGlite.create(config.dataDir, { parsers: { [INT8_OID]: parseInt8 } })
      db = new Kysely({ dialect: new PGliteDialect(pglite) })
    } catch (error) {
      await lock?.release()
      throw error
    }
    release = async () => lock?.release()
    kind = 'pglite'
  }
  return {
    db,
    kind,
    async ping() {
      try {
        await sql`select 1`.execute(db)
        return true
      } catch {
        return false
      }
    },
    async close() {
      await db.destroy()
      await release()
    },
  }
}
