import { randomBytes } from 'node:crypto'
import pg from 'pg'
import type { DatabaseConfig } from './database.js'

export interface TestDatabase {
  config: DatabaseConfig
  drop(): Promise<void>
}

/**
 * A database of its own for one test file: a fresh PostgreSQL database when DATABASE_URL is set
 * (CI), an in-memory PGlite otherwise. `drop` removes it.
 */
export async function createTestDatabase(
  env: NodeJS.ProcessEnv = process.env,
): Promise<TestDatabase> {
  const adminUrl = env.DATABASE_URL
  if (!adminUrl) return { config: {}, drop: async () => {} }
  const name = `finchat_test_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  try {
    await admin.query(`create database ${name}`)
  } finally {
    await admin.end()
  }
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    config: { url: url.toString(), poolMax: 5 },
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl })
      await client.connect()
      try {
        await client.query(`drop database if exists ${name} with (force)`)
      } finally {
        await client.end()
      }
    },
  }
}
