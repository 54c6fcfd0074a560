import { randomBytes } from 'node:crypto'
import { type PostgresPool, type PostgresPoolClient, type RawBuilder, sql } from 'kysely'
import type pg from 'pg'

// Leads the text of a statement to prepare: a comment, so PGlite (and a log reader) see SQL.
const MARK = '/* prepared */ '

// Marked statements are fixed texts written in the code: more than this is a bug that would
// otherwise fill every connection of the database server with prepared statements.
const MAX_PREPARED = 100

/**
 * Marks a hot statement of fixed text (variable parts as parameters, arrays included) to be
 * prepared once per connection and then only executed: PostgreSQL skips parsing and planning
 * it, which halved what the chat's insert of a few rows costs the server (docs/benchmarks.md).
 */
export function prepared<T>(query: RawBuilder<T>): RawBuilder<T> {
  return sql<T>`${sql.raw(MARK)}${query}`
}

/**
 * An error after which the connection is gone: the server ended the session (SQLSTATE class 57P:
 * an administrator, a shutdown, idle_session_timeout), the connection failed (class 08), or
 * the socket did (no SQLSTATE).
 */
function isConnectionLoss(error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  if (typeof code !== 'string') return true
  return code.startsWith('57P') || code.startsWith('08') || /^E[A-Z]+$/.test(code)
}

/**
 * The pool as Kysely's dialect uses it, executing marked statements as named ones. node-pg
 * prepares a name the first time a connection runs it; Kysely cannot pass a name itself.
 */
export function preparingPool(
  pool: pg.Pool,
  options: { sharedSession?: boolean } = {},
): PostgresPool {
  const names = new Map<string, string>()
  const nameOf = (text: string) => {
    let name = names.get(text)
    if (name === undefined) {
      if (names.size >= MAX_PREPARED) {
        throw new Error(`more than ${MAX_PREPARED} prepared statements: is one not fixed text?`)
      }
      name = `finchat_${names.size + 1}`
      names.set(text, name)
    }
    return name
  }

  // Kysely keeps its connection objects by client: the same client gets the same wrapper.
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>()
  // Clients whose session ended under them (PostgreSQL's idle_session_timeout, a restart):
  // Kysely releases them like any other, and the pool would hand them out again.
  const lost = new WeakSet<pg.PoolClient>()
  function wrap(client: pg.PoolClient): PostgresPoolClient {
    // PGlite served to several clients (embedded-server.ts) is one session: its prepared
    // statements are every connection's, so each connection names its own apart.
    const tag = options.sharedSession ? `${randomBytes(4).toString('hex')}_` : ''
    client.on('error', () => lost.add(client))
    const noticeLoss = (error: unknown) => {
      if (isConnectionLoss(error)) lost.add(client)
      throw error
    }
    // Kysely passes a statement's text and parameters, or a cursor (a pg Submittable).
    function query(text: string | pg.Submittable, values?: unknown[]) {
      if (typeof text !== 'string') return client.query(text)
      const result = text.startsWith(MARK)
        ? client.query({
            name: tag + nameOf(text),
            text,
            values,
          })
        : client.query(text, values)
      return result.catch(noticeLoss)
    }
    return {
      query: query as unknown as PostgresPoolClient['query'],
      release: (destroy?: boolean) => client.release(destroy || lost.has(client) || undefined),
    }
  }
  return {
    async connect() {
      const client = await pool.connect()
      let wrapper = wrappers.get(client)
      if (!wrapper) {
        wrapper = wrap(client)
        wrappers.set(client, wrapper)
      }
      return wrapper
    },
    end: () => pool.end(),
  }
}
