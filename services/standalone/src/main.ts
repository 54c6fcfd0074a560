import { authOptions, createAccounts, migrateAuth, signingKeys } from '@finchat/auth'
import {
  BotStartError,
  createStockBot,
  loadBotConfig,
  type StockBot,
  stockBotOptions,
} from '@finchat/bot'
import { chatDb, chatOptions, createRoomAdmin, migrateChat } from '@finchat/chat'
import { ConfigError, openStorage, runService } from '@finchat/kit'
import { buildStandalone } from './app.js'
import { loadStandaloneConfig } from './config.js'
import { botPassword, seedRooms } from './first-start.js'

let bot: StockBot | undefined
/** Set once a stop began: a Ctrl-C in the first seconds lands while the steps below still run. */
let stopping = false

const { app, config, started } = await runService({
  loadConfig: () => loadStandaloneConfig(),
  server: (config) => ({ title: 'Financial Chat', trustProxy: config.trustProxy }),
  async setup(app, config) {
    let firstStart = false
    const storage = await openStorage(app, config, async (db) => {
      const auth = await migrateAuth(db)
      const chat = await migrateChat(db)
      // Chat's first migration creates the rooms table: this is the deployment's first start.
      firstStart = chat.includes('0001-init')
      return [...auth, ...chat]
    })
    const keys = await signingKeys(config.auth)
    const auth = await authOptions(config.auth, { ...storage, keys })
    const chat = chatOptions(config.chat, {
      ...storage,
      publicKey: keys.publicKey,
      revocations: auth.revocations,
      logger: app.log,
    })
    // Before the chat plugin closes its sockets, so that the bot leaves instead of reconnecting.
    app.addHook('preClose', async () => {
      stopping = true
      await bot?.stop()
    })
    await app.register(buildStandalone({ auth, chat, webRoot: config.WEB_ROOT }))
    // Before listening, so that a Ctrl-C in the first seconds cannot leave a first start unseeded
    // (the next start sees the migrations done and seeds nothing).
    const rooms = createRoomAdmin({ db: chatDb(storage.database.db) })
    const seeded = firstStart
      ? await seedRooms(rooms, config.seedRooms)
      : { created: [] as string[], refused: [] as string[] }
    return {
      close: storage.close,
      bus: storage.bus,
      accounts: createAccounts({ db: auth.db, passwords: auth.passwords }),
      seeded,
    }
  },
})

const port = (app.server.address() as { port: number }).port
const { seeded } = started
try {
  if (config.FINBOT_ENABLED) bot = await startBot()
  if (!stopping) printBanner()
} catch (error) {
  // The stop closed the database or the server under the bot's start: the stop's log says so.
  if (!stopping) throw error
}

async function startBot(): Promise<StockBot | undefined> {
  const password = await botPassword(config.DATA_DIR, config.FINBOT_PASSWORD)
  // The standalone process owns its bot's account: it is created, or given this password.
  const account = await started.accounts.ensureUser(config.FINBOT_USERNAME, password)
  // A bot account, so that its quotes may carry cards (its sessions end only the first time).
  await started.accounts.setBot(account.username, true)
  const local = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST
  const starting = createStockBot(
    stockBotOptions(
      loadBotConfig({
        ...process.env,
        FINBOT_HOST: `${local.includes(':') ? `[${local}]` : local}:${port}`,
        FINBOT_USERNAME: config.FINBOT_USERNAME,
        FINBOT_PASSWORD: password,
      }),
      { bus: started.bus },
    ),
    { logger: app.log.child({ component: 'bot' }) },
  )
  try {
    await starting.start()
    // A stop that began while it connected did not see it: it leaves now, as it would have.
    if (stopping) await starting.stop()
    return starting
  } catch (error) {
    if (stopping) {
      await starting.stop()
      return undefined
    }
    if (!(error instanceof BotStartError || error instanceof ConfigError)) throw error
    // The chat works without its bot: say why, and carry on.
    process.stdout.write(`The stock bot did not start: ${error.message}\n`)
    await starting.stop()
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
  if (seeded.created.length > 0) lines.push(`  Rooms:      created ${seeded.created.join(', ')}`)
  if (seeded.refused.length > 0)
    lines.push(`  SEED_ROOMS: not created ${seeded.refused.join(', ')}`)
  if (bot) {
    lines.push(
      `  Stock bot:  "${config.FINBOT_USERNAME}" answers /stock=SYMBOL, up to 5 comma-separated (e.g. /stock=aapl.us,msft.us)`,
    )
  }
  lines.push(
    '',
    'To create an administrator:',
    config.DATABASE_URL
      ? '  pnpm admin create-superuser   (with the same DATABASE_URL)'
      : '  pnpm admin create-superuser   (in another terminal, with the same DATA_DIR)',
    '',
  )
  process.stdout.write(`${lines.join('\n')}\n`)
}
