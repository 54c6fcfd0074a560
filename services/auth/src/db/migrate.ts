import { migrateToLatest } from '@finchat/db'
import type { Kysely } from 'kysely'
import { authMigrations } from './migrations/index.js'
import { AUTH_SCHEMA, type AuthDb } from './schema.js'

export const migrateAuth = (root: Kysely<unknown>) =>
  migrateToLatest(root, AUTH_SCHEMA, authMigrations)

export const authDb = (root: Kysely<unknown>) => root.withSchema(AUTH_SCHEMA) as unknown as AuthDb
