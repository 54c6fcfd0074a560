import { type Kysely, sql } from 'kysely'

// Frozen: a later change gets a new migration, never an edit here.
export async function up(db: Kysely<any>): Promise<void> {
  const schema = db.schema.withSchema('chat')
  await schema
    .createTable('rooms')
    .addColumn('id', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute()
  await sql`create unique index rooms_name_lower_key on chat.rooms (lower(name))`.execute(db)
  await schema
    .createTable('messages')
    .addColumn('id', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('room_id', 'bigint', (col) =>
      col.notNull().references('chat.rooms.id').onDelete('cascade'),
    )
    .addColumn('user_id', 'bigint', (col) => col.notNull())
    .addColumn('username', 'text', (col) => col.notNull())
    .addColumn('body', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute()
  // "The last 50 of a room" and paging in both directions are index range scans.
  await schema
    .createIndex('messages_room_id_id_idx')
    .on('messages')
    .columns(['room_id', 'id'])
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.withSchema('chat').dropTable('messages').execute()
  await db.schema.withSchema('chat').dropTable('rooms').execute()
}
