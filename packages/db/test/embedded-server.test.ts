import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { type Kysely, sql } from 'kysely'
import pg from 'pg'
import t from 'tap'
import { serveDataDir } from '../src/embedded-server.js'
import {
  createDatabase,
  DataDirInUseError,
  findDataDirHolder,
  migrateToLatest,
  prepared,
  startEmbeddedServer,
} from '../src/index.js'

// PGlite in DATA_DIR served by a process of its own: the service and `pnpm admin` are both its
// clients, over the wire protocol, and nobody else may open the directory meanwhile.

type Notes = Kysely<{ note: { id: number; body: string } }>

const notes = {
  '0001-notes': {
    async up(db: Kysely<any>) {
      await db.schema
        .withSchema('notes')
        .createTable('note')
        .addColumn('id', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity())
        .addColumn('body', 'text', (col) => col.notNull())
        .execute()
    },
  },
}

const root = await mkdtemp(join(tmpdir(), 'finchat-embedded-'))
t.teardown(() => rm(root, { recursive: true, force: true }))
const dataDir = join(root, 'pglite')

const insert = (db: Notes, body: string) =>
  prepared(sql<{ id: number }>`insert into notes.note (body) values (${body}) returning id`)
    .execute(db)
    .then((result) => result.rows[0]?.id)

t.test('the service and an admin command share the served database', async (t) => {
  const server = await startEmbeddedServer(dataDir)
  t.teardown(() => server.close())
  const service = await createDatabase({ url: server.url, embedded: true })
  t.teardown(() => service.close())
  t.same(await migrateToLatest(service.db, 'notes', notes), ['0001-notes'])
  const db = service.db as Notes
  t.equal(await insert(db, 'from the service'), 1, 'ids are numbers')

  // What `pnpm admin` opens: the directory, which finds the server serving it.
  const admin = await createDatabase({ dataDir })
  t.teardown(() => admin.close())
  // The same prepared statement from a second client of the one session: named apart.
  t.equal(await insert(admin.db as Notes, 'from the admin'), 2)
  t.equal(await insert(db, 'from the service again'), 3)
  t.same(
    (
      await db
        .selectFrom('notes.note' as 'note')
        .select('body')
        .orderBy('id')
        .execute()
    ).map((row) => row.body),
    ['from the service', 'from the admin', 'from the service again'],
  )

  // A transaction has the session to itself: the other client waits for its end.
  const order: string[] = []
  let outside: Promise<unknown> = Promise.resolve()
  await service.db.transaction().execute(async (trx) => {
    await sql`insert into notes.note (body) values ('in a transaction')`.execute(trx)
    outside = sql<{ n: number }>`select count(*)::int as n from notes.note`
      .execute(admin.db)
      .then((result) => order.push(`outside saw ${result.rows[0]?.n}`))
    await new Promise((resolve) => setTimeout(resolve, 200))
    await sql`select 1`.execute(trx)
    order.push('committing')
  })
  await outside
  t.same(order, ['committing', 'outside saw 4'])
})

t.test('nobody else opens the directory while it is served', async (t) => {
  const server = await startEmbeddedServer(dataDir)
  t.teardown(() => server.close())
  const holder = await findDataDirHolder(dataDir)
  t.match(holder, { url: server.url })
  const error = await startEmbeddedServer(dataDir).catch((error: unknown) => error)
  t.type(error, DataDirInUseError)
  t.match(
    (error as Error).message,
    `The database in ${dataDir} is in use by process ${holder?.pid}`,
  )
})

t.test('a closed server lets the directory open in-process, data kept', async (t) => {
  t.equal(await findDataDirHolder(dataDir), undefined, 'the lock went with the server')
  const database = await createDatabase({ dataDir })
  t.teardown(() => database.close())
  t.equal(database.kind, 'pglite')
  const rows = await sql<{ n: number }>`select count(*)::int as n from notes.note`.execute(
    database.db,
  )
  t.equal(rows.rows[0]?.n, 4)
  // In-process, the directory is held too.
  await t.rejects(startEmbeddedServer(dataDir), DataDirInUseError)
})

t.test('a lock left by a killed process does not keep the directory', async (t) => {
  const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid as number
  await writeFile(`${dataDir}.lock`, JSON.stringify({ pid: dead, url: 'postgres://gone' }))
  t.equal(await findDataDirHolder(dataDir), undefined)
  const server = await startEmbeddedServer(dataDir)
  t.teardown(() => server.close())
  t.match(JSON.parse(await readFile(`${dataDir}.lock`, 'utf8')), { url: server.url })
  const database = await createDatabase({ dataDir })
  t.teardown(() => database.close())
  t.equal(
    (await sql<{ n: number }>`select count(*)::int as n from notes.note`.execute(database.db))
      .rows[0]?.n,
    4,
  )
})

// PGlite keeps each message it parsed until an `execProtocol` call, which its socket server
// never makes: 200 000 rows would stay in the heap (~40 MiB) without forgetParsedMessages.
t.test('the server keeps nothing of the results it sent', async (t) => {
  // In this process, so that its heap is the one read.
  const server = await serveDataDir(dataDir)
  const client = new pg.Client({ connectionString: server.url })
  await client.connect()
  try {
    setFlagsFromString('--expose-gc')
    const collect = runInNewContext('gc') as () => void
    const heapUsed = () => {
      collect()
      return process.memoryUsage().heapUsed
    }
    const page = () =>
      client.query('select i, repeat($1, 20) as body from generate_series(1, 1000) as i', ['x'])
    await page()
    const before = heapUsed()
    for (let i = 0; i < 200; i++) await page()
    const grown = (heapUsed() - before) / 2 ** 20
    t.ok(grown < 5, `the heap grew by ${grown.toFixed(1)} MiB over 200 000 rows sent`)
  } finally {
    await client.end()
    await server.close()
  }
})
