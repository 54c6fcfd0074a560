export {
  type DataDirHolder,
  DataDirInUseError,
  findDataDirHolder,
} from './data-dir-lock.js'
export {
  createDatabase,
  type Database,
  type DatabaseConfig,
  type DatabaseTimeouts,
  defaultDatabaseTimeouts,
  migrationTimeouts,
} from './database.js'
export { type EmbeddedServer, startEmbeddedServer } from './embedded-server.js'
export { MigrationError, migrateToLatest } from './migrate.js'
export { type Migrate, openMigratedDatabase, runMigrations } from './open-migrated.js'
export {
  createOutboxRelay,
  createOutboxTable,
  type Deliver,
  type OutboxDatabase,
  type OutboxRelay,
  type OutboxTable,
  writeToOutbox,
} from './outbox.js'
export { prepared } from './prepared-statements.js'
