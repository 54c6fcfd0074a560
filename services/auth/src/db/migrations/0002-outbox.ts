import { createOutboxTable } from '@finchat/db'
import { type Kysely, sql } from 'kysely'

// Frozen: a later change gets a new migration, never an edit here.
export async function up(db: Kysely<any>): Promise<void> {
  await createOutboxTable(db, 'auth')
  // Reloading the list of revoked sessions reads the ones still in force.
  await sql`create index sessions_revoked_idx on auth.sessions (expires_at) where revoked_at is not null`.execute(
    db,
  )
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.withSchema('auth').dropIndex('sessions_revoked_idx').execute()
  await db.schema.withSchema('auth').dropTable('outbox').execute()
}
