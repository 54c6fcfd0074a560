import { type Kysely, sql } from 'kysely'

// Frozen: a later change gets a new migration, never an edit here.
export async function up(db: Kysely<any>): Promise<void> {
  const schema = db.schema.withSchema('auth')
  await schema
    .createTable('users')
    .addColumn('id', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('username', 'text', (col) => col.notNull())
    .addColumn('email', 'text', (col) => col.notNull().defaultTo(''))
    .addColumn('password_hash', 'text', (col) => col.notNull())
    .addColumn('is_admin', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute()
  await sql`create unique index users_username_lower_key on auth.users (lower(username))`.execute(
    db,
  )
  await sql`create unique index users_email_lower_key on auth.users (lower(email)) where email <> ''`.execute(
    db,
  )
  await schema
    .createTable('sessions')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('user_id', 'bigint', (col) =>
      col.notNull().references('auth.users.id').onDelete('cascade'),
    )
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .execute()
  await schema.createIndex('sessions_user_id_idx').on('sessions').column('user_id').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.withSchema('auth').dropTable('sessions').execute()
  await db.schema.withSchema('auth').dropTable('users').execute()
}
