import { type Kysely, sql } from 'kysely'
import t from 'tap'
import { createDatabase, MigrationError, migrateToLatest } from '../src/index.js'
import { createTestDatabase } from '../src/testing.js'

const widgets = {
  '0001-widgets': {
    async up(db: Kysely<any>) {
      await db.schema
        .withSchema('widgets')
        .createTable('widget')
        .addColumn('id', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity())
        .addColumn('name', 'text', (col) => col.notNull())
        .execute()
    },
    async down(db: Kysely<any>) {
      await db.schema.withSchema('widgets').dropTable('widget').execute()
    },
  },
}

t.test('a service migrates its own schema and reads ids back as numbers', async (t) => {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.drop())
  const database = await createDatabase(testDb.config)
  t.teardown(() => database.close())

  t.same(await migrateToLatest(database.db, 'widgets', widgets), ['0001-widgets'])
  t.same(await migrateToLatest(database.db, 'widgets', widgets), [], 'a second run is a no-op')

  const db = database.db.withSchema('widgets') as Kysely<{ widget: { id: number; name: string } }>
  const row = await db
    .insertInto('widget')
    .values({ name: 'a' } as never)
    .returning('id')
    .executeTakeFirstOrThrow()
  t.equal(typeof row.id, 'number')
  t.equal(await database.ping(), true)
})

t.test(
  'a failing migration raises a MigrationError naming it, and applies nothing of it',
  async (t) => {
    const testDb = await createTestDatabase()
    t.teardown(() => testDb.drop())
    const database = await createDatabase(testDb.config)
    t.teardown(() => database.close())

    const broken = {
      ...widgets,
      '0002-broken': {
        async up(db: Kysely<any>) {
          await sql`select * from no_such_table`.execute(db)
        },
      },
    }
    await t.rejects(migrateToLatest(database.db, 'widgets', broken), {
      name: 'MigrationError',
      message: /0002-broken/,
    })
    t.ok(MigrationError)
  },
)
