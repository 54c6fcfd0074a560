import { migrateFromEnv } from '@finchat/kit'
import { loadChatConfig } from './config.js'
import { migrateChat } from './db/migrate.js'

await migrateFromEnv('chat', loadChatConfig, migrateChat)
