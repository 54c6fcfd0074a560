import { type Kysely, sql } from 'kysely'

// Frozen: a later change gets a new migration, never an edit here.
// A message may carry the name its sender gave it (`client_id`): the same user sending the same
// name to the same room again stores nothing new. The index is that rule, and the writer finds
// the original by it. Messages without one (old clients) are not in it.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.withSchema('chat').alterTable('messages').addColumn('client_id', 'text').execute()
  await sql`
    create unique index messages_room_id_user_id_client_id_key
    on chat.messages (room_id, user_id, client_id) where client_id is not null
  `.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.withSchema('chat').dropIndex('messages_room_id_user_id_client_id_key').execute()
  await db.schema.withSchema('chat').alterTable('messages').dropColumn('client_id').execute()
}
