import type { Kysely } from 'kysely'

// Frozen: a later change gets a new migration, never an edit here.
// A survivor looking for the last messages of a dead instance's users reads them by user and
// time instead of scanning the table.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .withSchema('chat')
    .createIndex('messages_user_id_created_at_idx')
    .on('messages')
    .columns(['user_id', 'created_at'])
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.withSchema('chat').dropIndex('messages_user_id_created_at_idx').execute()
}
