import type { Kysely } from 'kysely'

// Frozen: a later change gets a new migration, never an edit here.
// A bot account's message may carry a card (a quote, drawn by clients that know it), checked
// before it is stored; null for every other message.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.withSchema('chat').alterTable('messages').addColumn('card', 'jsonb').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.withSchema('chat').alterTable('messages').dropColumn('card').execute()
}
