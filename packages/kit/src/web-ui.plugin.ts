import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** `packages/web/dist` of this checkout, from kit's `src/` and `dist/` alike. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../web/dist', import.meta.url))

export interface WebUiOptions {
  /** The web UI's build output (`packages/web/dist`). */
  root: string
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>Financial Chat</title>
<body style="font-family:system-ui;max-width:40rem;margin:4rem auto;line-height:1.5">
<h1>Financial Chat</h1>
<p>The server is running, but the web UI has not been built. Build it with
<code>pnpm --filter @finchat/web build</code> and reload this page.</p>
<p>The REST API is described at <a href="/docs">/docs</a>; the WebSocket endpoint is
<code>/ws/chat</code>.</p>
</body></html>`

/** Serves the built web UI at `/`, or a page that says how to build it. */
export const webUiPlugin = fp(
  async (app: FastifyInstance, options: WebUiOptions) => {
    if (existsSync(join(options.root, 'index.html'))) {
      await app.register(fastifyStatic, { root: options.root, wildcard: true })
      return
    }
    app.log.warn({ root: options.root }, 'the web UI is not built; / explains how to build it')
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/html; charset=utf-8').send(NOT_BUILT),
    )
  },
  { name: 'finchat-web-ui', fastify: '5.x' },
)
