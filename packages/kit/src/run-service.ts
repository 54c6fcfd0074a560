import type { FastifyInstance } from 'fastify'
import { exitOnConfigError } from './config.js'
import { createServer, type ServerOptions } from './server.js'
import { listenWithGrace } from './shutdown.js'

export interface ListenConfig {
  HOST: string
  PORT: number
  LOG_LEVEL: string
}

/** What a service's setup built: `close` releases it once the app has closed. */
export interface Started {
  close?(): Promise<void>
}

export interface ServiceDefinition<C extends ListenConfig, S extends Started> {
  /** Reads and checks the environment; a ConfigError ends the process naming the variable. */
  loadConfig(): C
  /** The server's options beyond its log level (trusted proxies, the OpenAPI title). */
  server?(config: C): Omit<ServerOptions, 'logLevel'>
  /**
   * Builds the dependencies and registers the app on the server; answers what it built, whose
   * `close` releases it (pools, connections) once the app has closed.
   */
  setup(app: FastifyInstance, config: C): Promise<S>
}

/**
 * The one start of every service process: config, server, dependencies, listen, and on
 * SIGTERM/SIGINT a graceful stop (the app closes, then what setup built). Resolves once
 * listening, for what a main does after (the standalone's banner).
 */
export async function runService<C extends ListenConfig, S extends Started>(
  definition: ServiceDefinition<C, S>,
): Promise<{ app: FastifyInstance; config: C; started: S }> {
  let config: C
  try {
    config = definition.loadConfig()
  } catch (error) {
    exitOnConfigError(error)
  }
  const app = await createServer({ ...definition.server?.(config), logLevel: config.LOG_LEVEL })
  const started = await definition.setup(app, config)
  await listenWithGrace(app, {
    port: config.PORT,
    host: config.HOST,
    onClosed: async () => started.close?.(),
  })
  return { app, config, started }
}
