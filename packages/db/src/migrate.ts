import { type Kysely, type Migration, Migrator, sql } from 'kysely'

export class MigrationError extends Error {
  override name = 'MigrationError'
}

/**
 * Brings one service's schema to its latest migration. Each service keeps its own migration
 * table inside its own schema, so services migrate independently. Throws on any failure.
 */
export async function migrateToLatest(
  db: Kysely<unknown>,
  schema: string,
  migrations: Record<string, Migration>,
): Promise<string[]> {
  await sql`create schema if not exists ${sql.id(schema)}`.execute(db)
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableSchema: schema,
  })
  const { error, results = [] } = await migrator.migrateToLatest()
  const failed = results.find((result) => result.status === 'Error')
  if (error || failed) {
    const cause = error instanceof Error ? error.message : String(error ?? 'unknown error')
    throw new MigrationError(
      `migration ${failed?.migrationName ?? '(setup)'} of schema ${schema} failed: ${cause}`,
      { cause: error },
    )
  }
  return results.map((result) => result.migrationName)
}
