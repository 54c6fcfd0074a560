import { migrateFromEnv } from '@finchat/kit'
import { loadAuthConfig } from './config.js'
import { migrateAuth } from './db/migrate.js'

await migrateFromEnv('auth', loadAuthConfig, migrateAuth)
