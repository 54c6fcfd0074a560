import { join } from 'node:path'
import { createBus } from '@finchat/bus'
import { openMigratedDatabase } from '@finchat/db'
import { createServer, exitOnConfigError, listenWithGrace, parseTrustProxy } from '@finchat/kit'
import { Redis } from 'ioredis'
import { buildAuth } from './app.js'
import { type AuthConfig, loadAuthConfig } from './config.js'
import { migrateAuth } from './db/migrate.js'
import { authOptions, signingKeys } from './deps.js'

let config: AuthConfig
try {
  config = loadAuthConfig()
} catch (error) {
  exitOnConfigError(error)
}

const app = await createServer({
  logLevel: config.LOG_LEVEL,
  trustProxy: parseTrustProxy(config.TRUST_PROXY),
})
const database = await openMigratedDatabase(
  { url: config.DATABASE_URL, dataDir: join(config.DATA_DIR, 'pglite') },
  migrateAuth,
  app.log,
)
const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { lazyConnect: false }) : undefined
redis?.on('error', (err) => app.log.warn({ err: err.message }, 'redis unavailable'))
const bus = createBus({ redisUrl: config.REDIS_URL, prefix: config.REDIS_PREFIX, logger: app.log })

app.readiness.add('database', database.ping)
app.readiness.add('bus', bus.ping)
await app.register(
  buildAuth(await authOptions(config, { database, bus, redis, keys: await signingKeys(config) })),
)
await listenWithGrace(app, {
  port: config.PORT,
  host: config.HOST,
  onClosed: async () => {
    await bus.close()
    redis?.disconnect()
    await database.close()
  },
})
