import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export type ReadinessCheck = () => Promise<boolean>

export interface Readiness {
  /** Registers a dependency that must answer for the process to be ready. */
  add(name: string, check: ReadinessCheck): void
  check(): Promise<{ ready: boolean; checks: Record<string, boolean> }>
}

declare module 'fastify' {
  interface FastifyInstance {
    readiness: Readiness
  }
}

const CHECK_TIMEOUT_MS = 2000

async function runCheck(check: ReadinessCheck): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS)
  })
  try {
    return await Promise.race([check().catch(() => false), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** `/healthz` says the process is alive; `/readyz` says its dependencies answer. */
export const healthPlugin = fp(
  async (app: FastifyInstance) => {
    const checks = new Map<string, ReadinessCheck>()
    const readiness: Readiness = {
      add(name, check) {
        checks.set(name, check)
      },
      async check() {
        const entries = await Promise.all(
          [...checks].map(async ([name, check]) => [name, await runCheck(check)] as const),
        )
        return { ready: entries.every(([, ok]) => ok), checks: Object.fromEntries(entries) }
      },
    }
    app.decorate('readiness', readiness)

    app.get('/healthz', { logLevel: 'warn', schema: { hide: true } }, async () => ({
      status: 'ok',
    }))
    app.get('/readyz', { logLevel: 'warn', schema: { hide: true } }, async (_request, reply) => {
      const result = await readiness.check()
      return reply.code(result.ready ? 200 : 503).send({
        status: result.ready ? 'ready' : 'not-ready',
        checks: result.checks,
      })
    })
  },
  { name: 'finchat-health', fastify: '5.x' },
)
