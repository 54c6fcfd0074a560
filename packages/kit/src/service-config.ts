import { defaultDatabaseTimeouts } from '@finchat/db'
import { Type } from '@sinclair/typebox'
import { ConfigError } from './config.js'

/** A TCP port, with the service's own default. */
export const portField = (port: number) =>
  Type.Integer({ minimum: 0, maximum: 65535, default: port })

/** What every server process reads: where it listens and how much it logs. */
export const serverConfigFields = (port: number) => ({
  HOST: Type.String({ default: '0.0.0.0' }),
  PORT: portField(port),
  LOG_LEVEL: Type.String({ default: 'info' }),
})

/** Development makes keys on its own and accepts the placeholders of `.env.sample`. */
export const nodeEnvField = Type.Union(
  [Type.Literal('development'), Type.Literal('production'), Type.Literal('test')],
  { default: 'production' },
)

const timeoutField = (ms: number) => Type.Integer({ minimum: 0, default: ms })

/** How long PostgreSQL may be waited for, in milliseconds (0: no limit); PGlite ignores them. */
export const databaseTimeoutFields = {
  DATABASE_CONNECT_TIMEOUT_MS: timeoutField(defaultDatabaseTimeouts.connectMs),
  DATABASE_STATEMENT_TIMEOUT_MS: timeoutField(defaultDatabaseTimeouts.statementMs),
  DATABASE_LOCK_TIMEOUT_MS: timeoutField(defaultDatabaseTimeouts.lockMs),
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: timeoutField(
    defaultDatabaseTimeouts.idleInTransactionMs,
  ),
  DATABASE_IDLE_SESSION_TIMEOUT_MS: timeoutField(defaultDatabaseTimeouts.idleSessionMs),
}

/** Where a service keeps its data: PostgreSQL or PGlite in DATA_DIR, and Redis or nothing. */
export const storageConfigFields = {
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DATA_DIR: Type.String({ default: '.data' }),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  /** Prepended to every Redis key and stream, so that several deployments can share a server. */
  REDIS_PREFIX: Type.String({ default: '' }),
  ...databaseTimeoutFields,
}

/**
 * Whose X-Forwarded-* to believe: `false`, a number of proxies in front, or their addresses
 * (`parseTrustProxy`, which refuses `true`).
 */
export const trustProxyField = Type.String({ default: 'false' })

/** The settings of a service with storage: environment, listening, logs, database, Redis. */
export const serviceConfigFields = (port: number) => ({
  NODE_ENV: nodeEnvField,
  ...serverConfigFields(port),
  ...storageConfigFields,
})

/**
 * Secrets development makes on its own and production must be given: refused at boot, named,
 * when any of them is missing outside development.
 */
export function requireOutsideDevelopment(
  config: { NODE_ENV: string } & Record<string, unknown>,
  names: string[],
) {
  if (config.NODE_ENV === 'development' || names.every((name) => config[name])) return
  const verb = names.length > 1 ? 'are' : 'is'
  throw new ConfigError(
    `invalid configuration: ${names.join(' and ')} ${verb} required outside development`,
  )
}
