import { join } from 'node:path'
import { type Bus, createBus } from '@finchat/bus'
import { type Database, type Migrate, openMigratedDatabase, runMigrations } from '@finchat/db'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { exitOnConfigError } from './config.js'

export interface StorageConfig {
  DATABASE_URL?: string
  DATA_DIR: string
  REDIS_URL?: string
  REDIS_PREFIX: string
}

export interface Storage {
  database: Database
  /** Present with REDIS_URL: presence, revocations and limits live there. */
  redis?: Redis
  bus: Bus
  /** Releases all three; after the app has closed. */
  close(): Promise<void>
}

const databaseConfig = (config: StorageConfig) => ({
  url: config.DATABASE_URL,
  dataDir: join(config.DATA_DIR, 'pglite'),
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
  const database = await openMigratedDatabase(databaseConfig(config), migrate, app.log)
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
    },
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
