import { type Kysely, sql } from 'kysely'
import t from 'tap'
import { createDatabase, MigrationError, migrateToLatest, prepared } from '../src/index.js'
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

t.test(
  'a statement marked prepared runs as one, each time with its own values, arrays included',
  async (t) => {
    const testDb = await createTestDatabase()
    t.teardown(() => testDb.drop())
    const database = await createDatabase(testDb.config)
    t.teardown(() => database.close())

    const sum = (values: number[]) =>
      prepared(sql<{ total: number }>`select sum(v)::int as total from unnest(${values}::int4[]) v`)
    await database.db.connection().execute(async (conn) => {
      t.same((await sum([1, 2, 3]).execute(conn)).rows, [{ total: 6 }])
      t.same((await sum([40, 2]).execute(conn)).rows, [{ total: 42 }], 'the second time too')
      t.same((await sum([]).execute(conn)).rows, [{ total: null }], 'and with no values')
      if (database.kind === 'postgres') {
        const { rows } = await sql<{ statement: string }>`
          select statement from pg_prepared_statements
        `.execute(conn)
        t.equal(rows.length, 1, 'prepared once on the connection')
        t.match(rows[0]?.statement, /unnest/)
      }
    })
    const { rows } = await sql<{ n: number }>`select 1 as n`.execute(database.db)
    t.same(rows, [{ n: 1 }], 'statements not marked run as before')
  },
)
