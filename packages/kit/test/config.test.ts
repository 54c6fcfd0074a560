import { Type } from '@sinclair/typebox'
import t from 'tap'
import {
  ConfigError,
  loadConfig,
  requireOutsideDevelopment,
  serviceConfigFields,
} from '../src/index.js'

const Schema = Type.Object({
  PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 8000 }),
  SECRET: Type.String({ minLength: 8 }),
  DEBUG: Type.Boolean({ default: false }),
})

t.test('valid settings are typed and defaulted', async (t) => {
  const config = loadConfig(Schema, { SECRET: 'long enough', DEBUG: 'true' })
  t.same(config, { PORT: 8000, SECRET: 'long enough', DEBUG: true })
})

t.test('every bad or missing variable is named in one message', async (t) => {
  t.throws(() => loadConfig(Schema, { PORT: 'eighty' }), {
    name: 'ConfigError',
    message: /SECRET is required/,
  })
  try {
    loadConfig(Schema, { PORT: '99999', SECRET: 'short' })
    t.fail('should have thrown')
  } catch (error) {
    t.type(error, ConfigError)
    t.match((error as Error).message, /PORT/)
    t.match((error as Error).message, /SECRET/)
  }
})

t.test('an empty value counts as unset', async (t) => {
  t.equal(loadConfig(Schema, { SECRET: 'long enough', PORT: '' }).PORT, 8000)
})

t.test('a placeholder from .env.sample is refused outside development', async (t) => {
  t.throws(() => loadConfig(Schema, { SECRET: 'CHANGE_ME' }), {
    name: 'ConfigError',
    message: 'invalid configuration: SECRET still holds the CHANGE_ME placeholder of .env.sample',
  })
  t.same(loadConfig(Schema, { SECRET: 'CHANGE_ME', NODE_ENV: 'development' }).SECRET, 'CHANGE_ME')
})

t.test('a service refuses to start without its secrets outside development', async (t) => {
  const Service = Type.Object({ ...serviceConfigFields(8001), KEY: Type.Optional(Type.String()) })
  const production = loadConfig(Service, {})
  t.equal(production.NODE_ENV, 'production', 'production unless told otherwise')
  t.equal(production.PORT, 8001)
  t.throws(() => requireOutsideDevelopment(production, ['KEY', 'OTHER']), {
    name: 'ConfigError',
    message: 'invalid configuration: KEY and OTHER are required outside development',
  })
  t.doesNotThrow(() => requireOutsideDevelopment({ ...production, KEY: 'k', OTHER: 'o' }, ['KEY']))
  const development = loadConfig(Service, { NODE_ENV: 'development' })
  t.doesNotThrow(() => requireOutsideDevelopment(development, ['KEY']))
})

t.test(
  'waits on PostgreSQL have limits by default, and a bad one is refused by name',
  async (t) => {
    const Service = Type.Object(serviceConfigFields(8001))
    const config = loadConfig(Service, {})
    t.match(config, {
      DATABASE_CONNECT_TIMEOUT_MS: 5000,
      DATABASE_STATEMENT_TIMEOUT_MS: 10_000,
      DATABASE_LOCK_TIMEOUT_MS: 5000,
      DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: 10_000,
      DATABASE_IDLE_SESSION_TIMEOUT_MS: 10_000,
    })
    t.equal(
      loadConfig(Service, { DATABASE_LOCK_TIMEOUT_MS: '0' }).DATABASE_LOCK_TIMEOUT_MS,
      0,
      '0: none',
    )
    t.throws(() => loadConfig(Service, { DATABASE_LOCK_TIMEOUT_MS: 'soon' }), {
      name: 'ConfigError',
      message: /DATABASE_LOCK_TIMEOUT_MS/,
    })
    t.throws(() => loadConfig(Service, { DATABASE_IDLE_SESSION_TIMEOUT_MS: '-1' }), {
      message: /DATABASE_IDLE_SESSION_TIMEOUT_MS/,
    })
  },
)
