import Fastify, { type FastifyInstance } from 'fastify'
import { errorHandlerPlugin } from './error-handler.plugin.js'
import { healthPlugin } from './health.plugin.js'
import { loggerOptions } from './logger.js'
import { metricsPlugin } from './metrics.plugin.js'
import { openApiPlugin } from './openapi.plugin.js'
import type { TrustProxy } from './trust-proxy.js'

export interface ServerOptions {
  logLevel?: string
  /** false silences logging (tests) */
  logger?: boolean
  bodyLimit?: number
  /** Whose X-Forwarded-* to believe (`parseTrustProxy`); nobody's by default. */
  trustProxy?: TrustProxy
  /** Title of the OpenAPI document at `/openapi.json`. */
  title?: string
}

/**
 * The Fastify instance every process starts from: logging, one error handler, health and
 * metrics. Service plugins (auth, chat, ...) are registered on it by main or by standalone.
 */
export async function createServer(options: ServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger === false ? false : loggerOptions(options.logLevel),
    bodyLimit: options.bodyLimit ?? 64 * 1024,
    trustProxy: options.trustProxy ?? false,
    ajv: {
      // Every bad field gets its own error, and a number is never silently taken for a string.
      customOptions: { allErrors: true, coerceTypes: false, removeAdditional: false },
    },
  })
  // First, so that it sees every route registered after it.
  await app.register(openApiPlugin, { title: options.title })
  await app.register(errorHandlerPlugin)
  await app.register(healthPlugin)
  await app.register(metricsPlugin)
  return app
}
