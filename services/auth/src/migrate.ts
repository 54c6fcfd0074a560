import { join } from 'node:path'
import { createDatabase } from '@finchat/db'
import { exitOnConfigError } from '@finchat/kit'
import { type AuthConfig, loadAuthConfig } from './config.js'
import { migrateAuth } from './db/migrate.js'

let config: AuthConfig
try {
  config = loadAuthConfig({ NODE_ENV: 'development', ...process.env })
} catch (error) {
  exitOnConfigError(error)
}
const database = await createDatabase({
  url: config.DATABASE_URL,
  dataDir: join(config.DATA_DIR, 'pglite'),
})
try {
  const applied = await migrateAuth(database.db)
  process.stdout.write(`auth: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}\n`)
} catch (error) {
  process.stderr.write(`auth: ${(error as Error).message}\n`)
  process.exitCode = 1
} finally {
  await database.close()
}
