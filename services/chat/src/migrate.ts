import { join } from 'node:path'
import { runMigrations } from '@finchat/db'
import { exitOnConfigError } from '@finchat/kit'
import { type ChatConfig, loadChatConfig } from './config.js'
import { migrateChat } from './db/migrate.js'

let config: ChatConfig
try {
  config = loadChatConfig({ NODE_ENV: 'development', ...process.env })
} catch (error) {
  exitOnConfigError(error)
}
await runMigrations(
  'chat',
  { url: config.DATABASE_URL, dataDir: join(config.DATA_DIR, 'pglite') },
  migrateChat,
)
