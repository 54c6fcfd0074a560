import { join } from 'node:path'
import { runMigrations } from '@finchat/db'
import { exitOnConfigError } from '@finchat/kit'
import { type AuthConfig, loadAuthConfig } from './config.js'
import { migrateAuth } from './db/migrate.js'

let config: AuthConfig
try {
  config = loadAuthConfig({ NODE_ENV: 'development', ...process.env })
} catch (error) {
  exitOnConfigError(error)
}
await runMigrations(
  'auth',
  { url: config.DATABASE_URL, dataDir: join(config.DATA_DIR, 'pglite') },
  migrateAuth,
)
