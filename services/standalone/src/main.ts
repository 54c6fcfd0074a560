import { join } from 'node:path'
import { authDb, authOptions, migrateAuth, signingKeys } from '@finchat/auth'
import {
  BotStartError,
  createStockBot,
  loadBotConfig,
  type StockBot,
  stockBotOptions,
} from '@finchat/bot'
import { createBus } from '@finchat/bus'
import { chatDb, chatOptions, migrateChat } from '@finchat/chat'
import { openMigratedDatabase } from '@finchat/db'
import {
  ConfigError,
  createServer,
  exitOnConfigError,
  listenWithGrace,
  parseTrustProxy,
  type TrustProxy,
} from '@finchat/kit'
import { Redis } from 'ioredis'
import { buildStandalone } from './app.js'
import { loadStandaloneConfig, type StandaloneConfig } from './config.js'
import { botPassword, ensureBotAccount, seedRooms } from './first-start.js'

let config: StandaloneConfig
let trustProxy: TrustProxy
try {
  config = loadStandaloneConfig()
  trustProxy = parseTrustProxy(config.auth.TRUST_PROXY)
} catch (error) {
  exitOnConfigError(error)
}

const app = await createServer({ logLevel: config.LOG_LEVEL, title: 'Financial Chat', trustProxy })
let firstStart = false
const database = await openMigratedDatabase(
  { url: config.DATABASE_URL, dataDir: join(config.DATA_DIR, 'pglite') },
  async (db) => {
    const auth = await migrateAuth(db)
    const chat = await migrateChat(db)
    // Chat's first migration creates the rooms table: this is the deployment's first start.
    firstStart = chat.includes('0001-init')
    return [...auth, ...chat]
  },
  app.log,
)
const redis = config.REDIS_URL ? new Redis(config.REDIS_URL) : undefined
redis?.on('error', (err) => app.log.warn({ err: err.message }, 'redis unavailable'))
const prefix = config.chat.REDIS_PREFIX
const bus = createBus({ redisUrl: config.REDIS_URL, prefix, logger: app.log })
const keys = await signingKeys(config.auth)
const auth = await authOptions(config.auth, { database, bus, redis, keys })

app.readiness.add('database', database.ping)
app.readiness.add('bus', bus.ping)
let bot: StockBot | undefined
// Before the chat plugin closes its sockets, so that the bot leaves instead of reconnecting.
app.addHook('preClose', async () => bot?.stop())
await app.register(
  buildStandalone({
    auth,
    chat: chatOptions(config.chat, {
      database,
      bus,
      redis,
      publicKey: keys.publicKey,
      revocations: auth.revocations,
      logger: app.log,
    }),
    webRoot: config.WEB_ROOT,
  }),
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

const port = (app.server.address() as { port: number }).port
const seeded = firstStart ? await seedRooms(chatDb(database.db), config.seedRooms) : []
if (config.FINBOT_ENABLED) bot = await startBot()
printBanner()

async function startBot(): Promise<StockBot | undefined> {
  const password = await botPassword(config.DATA_DIR, config.FINBOT_PASSWORD)
  await ensureBotAccount(authDb(database.db), auth.passwords, config.FINBOT_USERNAME, password)
  const local = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST
  const started = createStockBot(
    stockBotOptions(
      loadBotConfig({
        ...process.env,
        FINBOT_HOST: `${local.includes(':') ? `[${local}]` : local}:${port}`,
        FINBOT_USERNAME: config.FINBOT_USERNAME,
        FINBOT_PASSWORD: password,
      }),
      { bus },
    ),
    { logger: app.log.child({ component: 'bot' }) },
  )
  try {
    await started.start()
    return started
  } catch (error) {
    if (!(error instanceof BotStartError || error instanceof ConfigError)) throw error
    // The chat works without its bot: say why, and carry on.
    process.stdout.write(`The stock bot did not start: ${error.message}\n`)
    await started.stop()
    return undefined
  }
}

function printBanner() {
  const url = `http://${config.HOST === '127.0.0.1' || config.HOST === '0.0.0.0' ? 'localhost' : config.HOST}:${port}`
  const storage = config.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${config.DATA_DIR}`
  const lines = [
    '',
    `Financial Chat is running at ${url}`,
    `  API docs:   ${url}/docs`,
    `  WebSocket:  ${url.replace('http', 'ws')}/ws/chat`,
    `  Data:       ${storage}; bus ${config.REDIS_URL ? 'Redis (REDIS_URL)' : 'in-process'}`,
  ]
  if (seeded.length > 0) lines.push(`  Rooms:      created ${seeded.join(', ')}`)
  if (bot) {
    lines.push(
      `  Stock bot:  "${config.FINBOT_USERNAME}" answers /stock=SYMBOL (e.g. /stock=aapl.us)`,
    )
  }
  lines.push(
    '',
    'To create an administrator:',
    config.DATABASE_URL
      ? '  pnpm admin create-superuser   (with the same DATABASE_URL)'
      : '  stop this server (Ctrl-C), run `pnpm admin create-superuser`, then `pnpm start` again',
    '',
  )
  process.stdout.write(`${lines.join('\n')}\n`)
}
