import { join } from 'node:path'
import { type Bus, createBus } from '@finchat/bus'
import {
  type Database,
  type DatabaseConfig,
  DataDirInUseError,
  type EmbeddedServer,
  type Migrate,
  openMigratedDatabase,
  runMigrations,
  startEmbeddedServer,
} from '@finchat/db'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { exitOnConfigError } from './config.js'

export interface StorageConfig {
  DATABASE_URL?: string
  DATA_DIR: string
  REDIS_URL?: string
  REDIS_PREFIX: string
  DATABASE_CONNECT_TIMEOUT_MS?: number
  DATABASE_STATEMENT_TIMEOUT_MS?: number
  DATABASE_LOCK_TIMEOUT_MS?: number
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS?: number
  DATABASE_IDLE_SESSION_TIMEOUT_MS?: number
}

export interface Storage {
  database: Database
  /** Present with REDIS_URL: presence, revocations and limits live there. */
  redis?: Redis
  bus: Bus
  /** Releases all three; after the app has closed. */
  close(): Promise<void>
}

const databaseConfig = (config: StorageConfig): DatabaseConfig => ({
  url: config.DATABASE_URL,
  dataDir: join(config.DATA_DIR, 'pglite'),
  timeouts: {
    connectMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    statementMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    lockMs: config.DATABASE_LOCK_TIMEOUT_MS,
    idleInTransactionMs: config.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    idleSessionMs: config.DATABASE_IDLE_SESSION_TIMEOUT_MS,
  },
})

/**
 * The database (migrated: a failed migration ends the process), Redis and the bus a service
 * runs on, each reported by `/readyz`.
 */
export async function openStorage(
  app: FastifyInstance,
  config: StorageConfig,
  migrate: Migrate,
): Promise<Storage> {
  const embedded = config.DATABASE_URL ? undefined : await startEmbedded(config, app.log)
  const database = await openMigratedDatabase(
    embedded ? { url: embedded.url, embedded: true } : databaseConfig(config),
    migrate,
    app.log,
  )
  const redis = config.REDIS_URL ? new Redis(config.REDIS_URL) : undefined
  redis?.on('error', (err) => app.log.warn({ err: err.message }, 'redis unavailable'))
  const bus = createBus({
    redisUrl: config.REDIS_URL,
    prefix: config.REDIS_PREFIX,
    logger: app.log,
  })
  app.readiness.add('database', database.ping)
  app.readiness.add('bus', bus.ping)
  return {
    database,
    redis,
    bus,
    async close() {
      await bus.close()
      redis?.disconnect()
      await database.close()
      await embedded?.close()
    },
  }
}

/**
 * Without DATABASE_URL: PGlite in DATA_DIR, served by a process of its own (its statements off
 * this event loop). A second `pnpm start` on the same DATA_DIR stops here, naming it; should
 * the server die, so does the service (nothing works without it, and a restart recovers).
 */
async function startEmbedded(
  config: StorageConfig,
  log: FastifyInstance['log'],
): Promise<EmbeddedServer> {
  try {
    return await startEmbeddedServer(join(config.DATA_DIR, 'pglite'), {
      onLost(reason) {
        log.fatal({ reason }, 'the embedded database stopped')
        process.exit(1)
      },
    })
  } catch (error) {
    if (!(error instanceof DataDirInUseError)) throw error
    process.stderr.write(`${error.message}\n`)
    process.exit(1)
  }
}

/** `pnpm migrate` for one service: its configuration (development defaults), then its migrations. */
export async function migrateFromEnv(
  service: string,
  loadConfig: (env: NodeJS.ProcessEnv) => StorageConfig,
  migrate: Migrate,
) {
  let config: StorageConfig
  try {
    config = loadConfig({ NODE_ENV: 'development', ...process.env })
  } catch (error) {
    exitOnConfigError(error)
  }
  await runMigrations(service, databaseConfig(config), migrate)
}
