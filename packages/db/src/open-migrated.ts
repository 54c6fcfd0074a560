import type { Kysely } from 'kysely'
import {
  createDatabase,
  type Database,
  type DatabaseConfig,
  migrationTimeouts,
} from './database.js'

export type Migrate = (db: Kysely<unknown>) => Promise<string[]>

/**
 * Opens the database and brings the service's schema up to date; a failed migration is
 * reported and ends the process with a non-zero code, since the service cannot run on it.
 */
export async function openMigratedDatabase(
  config: DatabaseConfig,
  migrate: Migrate,
  log: { fatal(obj: object, msg: string): void },
): Promise<Database> {
  const migrating = await createDatabase({
    ...config,
    timeouts: migrationTimeouts(config.timeouts),
  })
  try {
    await migrate(migrating.db)
  } catch (error) {
    log.fatal({ err: error }, 'migration failed')
    await migrating.close()
    process.exit(1)
  }
  // PGlite is one in-process database, opened once; PostgreSQL gets the service's own limits.
  if (migrating.kind === 'pglite') return migrating
  await migrating.close()
  return createDatabase(config)
}

/** `pnpm migrate` for one service: prints what it applied, exits non-zero on failure. */
export async function runMigrations(service: string, config: DatabaseConfig, migrate: Migrate) {
  const database = await createDatabase({ ...config, timeouts: migrationTimeouts(config.timeouts) })
  try {
    const applied = await migrate(database.db)
    process.stdout.write(
      `${service}: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}\n`,
    )
  } catch (error) {
    process.stderr.write(`${service}: ${(error as Error).message}\n`)
    process.exitCode = 1
  } finally {
    await database.close()
  }
}
