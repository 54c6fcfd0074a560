import { migrateToLatest } from '@finchat/db'
import type { Kysely } from 'kysely'
import { chatMigrations } from './migrations/index.js'
import { CHAT_SCHEMA, type ChatDb } from './schema.js'

export const migrateChat = (root: Kysely<unknown>) =>
  migrateToLatest(root, CHAT_SCHEMA, chatMigrations)

export const chatDb = (root: Kysely<unknown>) => root.withSchema(CHAT_SCHEMA) as unknown as ChatDb
