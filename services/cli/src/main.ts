import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { authDb, createAccounts, createScryptHasher, migrateAuth } from '@finchat/auth'
import { type Bus, createBus } from '@finchat/bus'
import {
  chatDb,
  createRoomAdmin,
  createRoomAnnouncements,
  createRoomPresence,
  migrateChat,
} from '@finchat/chat'
import { createDatabase } from '@finchat/db'
import { ConfigError } from '@finchat/kit'
import { Redis } from 'ioredis'
import { addRooms, deleteRoom, listRooms } from './commands/rooms.commands.js'
import {
  CommandError,
  createBot,
  createSuperuser,
  listUsers,
  setAdmin,
  setBot,
} from './commands/users.commands.js'
import { type CliConfig, loadCliConfig } from './config.js'

const USAGE = `usage: pnpm admin <command>
  create-superuser [--username NAME] [--email EMAIL] [--password PASSWORD] [--no-input]
  users list
  users grant-admin NAME
  users revoke-admin NAME          (refused for the last administrator)
  users mark-bot NAME              a bot account: its messages may carry cards (quotes)
  users unmark-bot NAME
  users create-bot                 the stock bot's account, from FINBOT_USERNAME and FINBOT_PASSWORD
                                   (marked as a bot account)
  rooms add NAME...
  rooms list
  rooms delete NAME

Uses DATABASE_URL, or the PGlite database in DATA_DIR (default .data) when it is unset; with
REDIS_URL, running chat instances hear of deleted rooms at once.`

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    username: { type: 'string' },
    email: { type: 'string' },
    password: { type: 'string' },
    'no-input': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
})

/** Redis, for a deletion to reach running instances: their members are parted and forgotten. */
async function withRedis<T>(
  config: CliConfig,
  use: (redis?: { bus: Bus; redis: Redis }) => Promise<T>,
) {
  if (!config.REDIS_URL) return use(undefined)
  const bus = createBus({ redisUrl: config.REDIS_URL, prefix: config.REDIS_PREFIX })
  const redis = new Redis(config.REDIS_URL)
  try {
    return await use({ bus, redis })
  } finally {
    await bus.close()
    redis.disconnect()
  }
}

async function run(config: CliConfig, [group, action, ...rest]: string[]): Promise<string> {
  const database = await createDatabase({
    url: config.DATABASE_URL,
    dataDir: join(config.DATA_DIR, 'pglite'),
  })
  try {
    await migrateAuth(database.db)
    await migrateChat(database.db)
    const accounts = createAccounts({
      db: authDb(database.db),
      passwords: createScryptHasher(config.PASSWORD_HASH_COST),
    })
    if (group === 'create-superuser' && action === undefined) {
      return await createSuperuser(accounts, {
        username: values.username,
        email: values.email,
        password: values.password,
        interactive: !values['no-input'] && process.stdin.isTTY === true,
      })
    }
    if (group === 'users' && action === 'list') return await listUsers(accounts)
    if (group === 'users' && action === 'grant-admin' && rest[0]) {
      return await setAdmin(accounts, rest[0], true)
    }
    if (group === 'users' && action === 'revoke-admin' && rest[0]) {
      return await setAdmin(accounts, rest[0], false)
    }
    if (group === 'users' && action === 'mark-bot' && rest[0]) {
      return await setBot(accounts, rest[0], true)
    }
    if (group === 'users' && action === 'unmark-bot' && rest[0]) {
      return await setBot(accounts, rest[0], false)
    }
    if (group === 'users' && action === 'create-bot' && rest.length === 0) {
      return await createBot(accounts, config)
    }
    if (group === 'rooms' && ['add', 'list', 'delete'].includes(action ?? '')) {
      return await withRedis(config, async (shared) => {
        const db = chatDb(database.db)
        // With Redis, the deletion is delivered from here at once; without, the running
        // instances' relays deliver it (or the next instance to start).
        const announcements =
          shared &&
          createRoomAnnouncements({
            db,
            bus: shared.bus,
            presence: createRoomPresence(shared.redis, config.REDIS_PREFIX),
            log: { warn: () => {} },
          })
        const rooms = createRoomAdmin({ db, announce: announcements?.flush })
        if (action === 'add') return addRooms(rooms, rest)
        if (action === 'list') return listRooms(rooms)
        return deleteRoom(rooms, rest[0])
      })
    }
    throw new CommandError(USAGE)
  } finally {
    await database.close()
  }
}

if (values.help || positionals.length === 0) {
  process.stdout.write(`${USAGE}\n`)
} else {
  try {
    process.stdout.write(`${await run(loadCliConfig(), positionals)}\n`)
  } catch (error) {
    const known = error instanceof CommandError || error instanceof ConfigError
    process.stderr.write(`${known ? (error as Error).message : String(error)}\n`)
    process.exitCode = 1
  }
}
