import { join } from 'node:path'
import { createDatabase } from '@finchat/db'
import { exitOnConfigError } from '@finchat/kit'
import { type ChatConfig, loadChatConfig } from './config.js'
import { migrateChat } from './db/migrate.js'

let config: ChatConfig
try {
  config = loadChatConfig({ NODE_ENV: 'development', ...process.env })
} catch (error) {
  exitOnConfigError(error)
}
const database = await createDatabase({
  url: config.DATABASE_URL,
  dataDir: join(config.DATA_DIR, 'pglite'),
})
try {
  const applied = await migrateChat(database.db)
  process.stdout.write(`chat: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}\n`)
} catch (error) {
  process.stderr.write(`chat: ${(error as Error).message}\n`)
  process.exitCode = 1
} finally {
  await database.close()
}
