export { createDatabase, type Database, type DatabaseConfig } from './database.js'
export { MigrationError, migrateToLatest } from './migrate.js'
export { type Migrate, openMigratedDatabase, runMigrations } from './open-migrated.js'
export { prepared } from './prepared-statements.js'
