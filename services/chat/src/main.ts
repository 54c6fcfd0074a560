import { join } from 'node:path'
import { createBus } from '@finchat/bus'
import { openMigratedDatabase } from '@finchat/db'
import { createServer, exitOnConfigError, listenWithGrace } from '@finchat/kit'
import { loadOrCreateKeyFiles } from '@finchat/sessions'
import { Redis } from 'ioredis'
import { buildChat } from './app.js'
import { type ChatConfig, loadChatConfig } from './config.js'
import { migrateChat } from './db/migrate.js'
import { chatOptions } from './deps.js'

let config: ChatConfig
try {
  config = loadChatConfig()
} catch (error) {
  exitOnConfigError(error)
}

const app = await createServer({ logLevel: config.LOG_LEVEL })
const database = await openMigratedDatabase(
  { url: config.DATABASE_URL, dataDir: join(config.DATA_DIR, 'pglite') },
  migrateChat,
  app.log,
)
const redis = config.REDIS_URL ? new Redis(config.REDIS_URL) : undefined
redis?.on('error', (err) => app.log.warn({ err: err.message }, 'redis unavailable'))
const bus = createBus({ redisUrl: config.REDIS_URL, prefix: config.REDIS_PREFIX, logger: app.log })
const publicKey =
  config.JWT_PUBLIC_KEY ?? (await loadOrCreateKeyFiles(join(config.DATA_DIR, 'keys'))).publicKey

app.readiness.add('database', database.ping)
app.readiness.add('bus', bus.ping)
await app.register(
  buildChat(chatOptions(config, { database, bus, redis, publicKey, logger: app.log })),
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
