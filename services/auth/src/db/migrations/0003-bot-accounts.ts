import type { Kysely } from 'kysely'

// Frozen: a later change gets a new migration, never an edit here.
// An administrator marks the accounts bots run under: only their messages may carry a card, so
// nobody else can post a quote that looks like the bot's.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .withSchema('auth')
    .alterTable('users')
    .addColumn('is_bot', 'boolean', (col) => col.notNull().defaultTo(false))
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.withSchema('auth').alterTable('users').dropColumn('is_bot').execute()
}
