import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { authDb, migrateAuth } from '@finchat/auth'
import { createDatabase } from '@finchat/db'
import { resolveDataDir } from '@finchat/kit'
import { CommandError, createSuperuser, grantAdmin, listUsers } from './commands/users.commands.js'

const USAGE = `usage: pnpm admin <command>
  create-superuser [--username NAME] [--email EMAIL] [--password PASSWORD] [--no-input]
  users list
  users grant-admin NAME

Uses DATABASE_URL, or the PGlite database in DATA_DIR (default .data) when it is unset.`

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

async function run(args: string[]): Promise<string> {
  const database = await createDatabase({
    url: process.env.DATABASE_URL || undefined,
    dataDir: join(resolveDataDir(process.env.DATA_DIR || '.data'), 'pglite'),
  })
  try {
    await migrateAuth(database.db)
    const db = authDb(database.db)
    const command = args.join(' ')
    if (command === 'create-superuser') {
      return await createSuperuser(
        db,
        {
          username: values.username,
          email: values.email,
          password: values.password,
          interactive: !values['no-input'] && process.stdin.isTTY === true,
        },
        Number(process.env.PASSWORD_HASH_COST || 15),
      )
    }
    if (command === 'users list') return await listUsers(db)
    if (args[0] === 'users' && args[1] === 'grant-admin' && args[2])
      return await grantAdmin(db, args[2])
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
