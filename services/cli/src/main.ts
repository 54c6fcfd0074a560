import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { authDb, migrateAuth } from '@finchat/auth'
import { createBus } from '@finchat/bus'
import { chatDb, migrateChat } from '@finchat/chat'
import { createDatabase } from '@finchat/db'
import { resolveDataDir } from '@finchat/kit'
import { addRooms, deleteRoom, listRooms } from './commands/rooms.commands.js'
import { CommandError, createSuperuser, grantAdmin, listUsers } from './commands/users.commands.js'

const USAGE = `usage: pnpm admin <command>
  create-superuser [--username NAME] [--email EMAIL] [--password PASSWORD] [--no-input]
  users list
  users grant-admin NAME
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

async function run([group, action, ...rest]: string[]): Promise<string> {
  const database = await createDatabase({
    url: process.env.DATABASE_URL || undefined,
    dataDir: join(resolveDataDir(process.env.DATA_DIR || '.data'), 'pglite'),
  })
  try {
    await migrateAuth(database.db)
    await migrateChat(database.db)
    const users = authDb(database.db)
    const rooms = chatDb(database.db)
    if (group === 'create-superuser' && action === undefined) {
      return await createSuperuser(
        users,
        {
          username: values.username,
          email: values.email,
          password: values.password,
          interactive: !values['no-input'] && process.stdin.isTTY === true,
        },
        Number(process.env.PASSWORD_HASH_COST || 15),
      )
    }
    if (group === 'users' && action === 'list') return await listUsers(users)
    if (group === 'users' && action === 'grant-admin' && rest[0])
      return await grantAdmin(users, rest[0])
    if (group === 'rooms' && action === 'add') return await addRooms(rooms, rest)
    if (group === 'rooms' && action === 'list') return await listRooms(rooms)
    if (group === 'rooms' && action === 'delete') {
      const redisUrl = process.env.REDIS_URL || undefined
      const bus = redisUrl
        ? createBus({ redisUrl, prefix: process.env.REDIS_PREFIX ?? '' })
        : undefined
      try {
        return await deleteRoom(rooms, rest[0], bus)
      } finally {
        await bus?.close()
      }
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
    process.stdout.write(`${await run(positionals)}\n`)
  } catch (error) {
    process.stderr.write(`${error instanceof CommandError ? error.message : String(error)}\n`)
    process.exitCode = 1
  }
}
