import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'

export interface ListenOptions {
  port: number
  host: string
  /** How long a graceful stop may take before the process exits anyway. */
  graceMs?: number
  /** Runs after the server closed, to release what main built (pools, connections). */
  onClosed?: () => Promise<void>
}

/**
 * Listens, and on SIGTERM/SIGINT closes the app (its onClose hooks drain connections), then the
 * dependencies, then exits. A second signal or the grace delay ends the process at once.
 */
export async function listenWithGrace(app: FastifyInstance, options: ListenOptions) {
  closeWithGrace({ delay: options.graceMs ?? 10_000, logger: app.log }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'stopping after an uncaught error')
    else app.log.info({ signal }, 'stopping')
    await app.close()
    await options.onClosed?.()
  })
  await app.listen({ port: options.port, host: options.host })
}
