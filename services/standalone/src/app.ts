import { type AuthOptions, buildAuth } from '@finchat/auth'
import { buildChat, type ChatOptions } from '@finchat/chat'
import { apiDocsPlugin, webUiPlugin } from '@finchat/kit'
import type { FastifyInstance } from 'fastify'

export interface StandaloneOptions {
  auth: AuthOptions
  chat: ChatOptions
  webRoot: string
}

/**
 * Every service in one server: the same auth and chat plugins a deployment runs, plus the web
 * UI and the API docs the gateway would serve. Nothing here exists only in this mode.
 */
export function buildStandalone(options: StandaloneOptions) {
  return async (app: FastifyInstance) => {
    await app.register(apiDocsPlugin)
    await app.register(webUiPlugin, { root: options.webRoot })
    await app.register(buildAuth(options.auth))
    await app.register(buildChat(options.chat))
  }
}
