import { createOutboxTable } from '@finchat/db'
import type { Kysely } from 'kysely'

// Frozen: a later change gets a new migration, never an edit here.
export async function up(db: Kysely<any>): Promise<void> {
  await createOutboxTable(db, 'chat')
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.withSchema('chat').dropTable('outbox').execute()
}
