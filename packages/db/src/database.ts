import { mkdir } from 'node:fs/promises'
import { PGlite } from '@electric-sql/pglite'
import { Kysely, PostgresDialect, sql } from 'kysely'
import { PGliteDialect } from 'kysely-pglite-dialect'
import pg from 'pg'
import { preparingPool } from './prepared-statements.js'

export interface DatabaseConfig {
  /** A PostgreSQL connection string; without one, PGlite runs in-process. */
  url?: string
  /** PGlite data directory; in memory when absent. */
  dataDir?: string
  poolMax?: number
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

export async function createDatabase(config: DatabaseConfig): Promise<Database> {
  let db: Kysely<unknown>
  let kind: Database['kind']
  if (config.url) {
    const pool = new pg.Pool({
      connectionString: config.url,
      max: config.poolMax ?? 10,
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === INT8_OID
            ? parseInt8
            : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
      },
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
    const pglite = await PGlite.create(config.dataDir, { parsers: { [INT8_OID]: parseInt8 } })
    db = new Kysely({ dialect: new PGliteDialect(pglite) })
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
    close: () => db.destroy(),
  }
}
