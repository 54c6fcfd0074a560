import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestDatabase } from '@finchat/db/testing'
import type { Test } from 'tap'

const main = join(import.meta.dirname, '../src/main.ts')

export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

/**
 * `pnpm admin` as an operator runs it, a process of its own, on a database of the test's own
 * (PostgreSQL with DATABASE_URL, else PGlite in a temporary DATA_DIR).
 */
export async function cliOnOwnDatabase(t: Test) {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.drop())
  const dataDir = await mkdtemp(join(tmpdir(), 'finchat-cli-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const prefix = `test:${randomBytes(4).toString('hex')}:`
  const env = {
    ...process.env,
    REDIS_PREFIX: prefix,
    DATABASE_URL: testDb.config.url ?? '',
    DATA_DIR: dataDir,
    PASSWORD_HASH_COST: '10',
  }
  /** Runs one command with `extra` on top of the environment. */
  const adminWith = (extra: NodeJS.ProcessEnv, ...args: string[]) =>
    new Promise<CliRun>((resolve) => {
      execFile(
        process.execPath,
        ['--conditions=@finchat/source', '--import=tsx', main, ...args],
        { env: { ...env, ...extra } },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
      )
    })
  return {
    prefix,
    /** Where the CLI's database is, to open it between two commands. */
    database: { url: testDb.config.url, dataDir: join(dataDir, 'pglite') },
    adminWith,
    admin: (...args: string[]) => adminWith({}, ...args),
  }
}
