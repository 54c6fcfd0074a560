import { sql } from 'kysely'
import t from 'tap'
import { createDatabase } from '../src/index.js'
import { createTestDatabase } from '../src/testing.js'

const LOCK = 'select pg_advisory_lock(42, 1)'

t.test(
  'a session holding a lock while its process is frozen gets others an error within lock_timeout, and loses the lock after idle_session_timeout',
  async (t) => {
    const testDb = await createTestDatabase()
    t.teardown(() => testDb.drop())
    if (!testDb.config.url) {
      t.pass('PostgreSQL only: PGlite has one session')
      return
    }
    const timeouts = { lockMs: 300, idleSessionMs: 1500 }
    const frozen = await createDatabase({ ...testDb.config, timeouts })
    t.teardown(() => frozen.close())
    const other = await createDatabase({ ...testDb.config, timeouts })
    t.teardown(() => other.close())

    // A session-level advisory lock outside any transaction, as chat's writer holds a room's,
    // and then nothing: what PostgreSQL sees of a process stopped between two statements.
    let lost: unknown
    let locked = () => {}
    const lockTaken = new Promise<void>((resolve) => {
      locked = resolve
    })
    const held = frozen.db.connection().execute(async (conn) => {
      await sql.raw(LOCK).execute(conn)
      locked()
      await new Promise((resolve) => setTimeout(resolve, 4000))
      await sql`select 1`.execute(conn).catch((error) => {
        lost = error
      })
    })

    await lockTaken
    await t.rejects(
      sql.raw(LOCK).execute(other.db),
      { code: '55P03', message: /lock timeout/ },
      'the waiter is refused, not left waiting',
    )
    // PostgreSQL ends the idle session, and its advisory lock goes with it.
    let taken = false
    for (let i = 0; i < 50 && !taken; i++) {
      taken = await sql
        .raw('select pg_try_advisory_lock(42, 1) as ok')
        .execute(other.db)
        .then((r) => (r.rows[0] as { ok: boolean }).ok)
      if (!taken) await new Promise((resolve) => setTimeout(resolve, 200))
    }
    t.ok(taken, 'the lock is free once the frozen session is ended')
    await held
    t.match(
      lost,
      { message: /not queryable|terminat/ },
      'the frozen process learns its session is gone',
    )
  },
)

t.test(
  'a statement is ended at statement_timeout, a transaction left idle at its own limit',
  async (t) => {
    const testDb = await createTestDatabase()
    t.teardown(() => testDb.drop())
    if (!testDb.config.url) {
      t.pass('PostgreSQL only')
      return
    }
    const database = await createDatabase({
      ...testDb.config,
      timeouts: { statementMs: 300, idleInTransactionMs: 500 },
    })
    t.teardown(() => database.close())

    await t.rejects(sql`select pg_sleep(5)`.execute(database.db), {
      code: '57014',
      message: /statement timeout/,
    })
    await t.rejects(
      database.db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(42, 2)`.execute(trx)
        await new Promise((resolve) => setTimeout(resolve, 1500))
        await sql`select 1`.execute(trx)
      }),
      /terminat|ECONNRESET|not queryable/,
      'the idle transaction was ended',
    )
    const { rows } = await sql<{
      ok: boolean
    }>`select pg_try_advisory_xact_lock(42, 2) as ok`.execute(database.db)
    t.same(rows, [{ ok: true }], 'and its lock went with it')
  },
)

t.test('a connection whose session PostgreSQL ended is not handed out again', async (t) => {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.drop())
  if (!testDb.config.url) {
    t.pass('PostgreSQL only')
    return
  }
  const database = await createDatabase({ ...testDb.config, poolMax: 1 })
  t.teardown(() => database.close())
  await database.db.connection().execute(async (conn) => {
    const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(conn)
    const admin = await createDatabase(testDb.config)
    await sql`select pg_terminate_backend(${rows[0]?.pid})`.execute(admin.db)
    await admin.close()
    await t.rejects(
      sql`select 1`.execute(conn),
      /terminat|ECONNRESET|not queryable/,
      'its holder learns it at its next statement',
    )
  })
  const { rows } = await sql<{ one: number }>`select 1 as one`.execute(database.db)
  t.same(rows, [{ one: 1 }], 'the next one gets a fresh connection')
})

t.test('the pool refuses at connectMs when every connection is taken', async (t) => {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.drop())
  if (!testDb.config.url) {
    t.pass('PostgreSQL only')
    return
  }
  const database = await createDatabase({
    ...testDb.config,
    poolMax: 1,
    timeouts: { connectMs: 300 },
  })
  t.teardown(() => database.close())
  let release = () => {}
  const busy = database.db.connection().execute(
    (conn) =>
      new Promise<void>((resolve) => {
        release = resolve
        void sql`select 1`.execute(conn)
      }),
  )
  await new Promise((resolve) => setTimeout(resolve, 100))
  await t.rejects(sql`select 1`.execute(database.db), { message: /timeout/i })
  release()
  await busy
})

t.test('PGlite opens with the same settings and ignores them', async (t) => {
  const database = await createDatabase({ timeouts: { statementMs: 1, lockMs: 1 } })
  t.teardown(() => database.close())
  t.equal(await database.ping(), true)
})
