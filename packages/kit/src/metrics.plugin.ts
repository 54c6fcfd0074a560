import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client'

declare module 'fastify' {
  interface FastifyInstance {
    /** The process's Prometheus registry: services register their own metrics on it. */
    metrics: Registry
  }
}

/** Prometheus `/metrics` with default process metrics (event-loop delay included) and HTTP timings. */
export const metricsPlugin = fp(
  async (app: FastifyInstance) => {
    // A registry per app, not prom-client's global one, so several apps (tests, standalone) coexist.
    const registry = new Registry()
    collectDefaultMetrics({ register: registry })
    const httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    })
    app.decorate('metrics', registry)
    app.addHook('onResponse', async (request, reply) => {
      httpDuration.observe(
        {
          method: request.method,
          route: request.routeOptions.url ?? 'unknown',
          status: String(reply.statusCode),
        },
        reply.elapsedTime / 1000,
      )
    })
    app.get('/metrics', { logLevel: 'warn', schema: { hide: true } }, async (_request, reply) => {
      reply.type(registry.contentType)
      return registry.metrics()
    })
  },
  { name: 'finchat-metrics', fastify: '5.x' },
)
