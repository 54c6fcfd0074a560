import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { DetailError, UserList, UserSummary } from '@finchat/protocol'
import { Type } from '@sinclair/typebox'
import { type Accounts, LastAdminError } from '../accounts/accounts.service.js'
import { toUserSummary } from '../users/user-views.js'

const NO_SUCH_USER = 'No such user.'

export interface AdminUserRoutesOptions {
  accounts: Accounts
}

/** Administration of users, for the web UI's admin page; administrators only. */
export const adminUserRoutes: FastifyPluginAsyncTypebox<AdminUserRoutesOptions> = async (
  app,
  { accounts },
) => {
  app.addHook('preHandler', app.requireAdmin)

  app.get(
    '/admin/users',
    { schema: { response: { 200: UserList, 401: DetailError, 403: DetailError } } },
    async () => ({ users: (await accounts.list()).map(toUserSummary) }),
  )

  const params = Type.Object({ username: Type.String({ maxLength: 150 }) })

  app.post(
    '/admin/users/:username/admin',
    {
      schema: {
        params,
        response: { 200: UserSummary, 401: DetailError, 403: DetailError, 404: DetailError },
      },
    },
    async (request, reply) => {
      const user = await accounts.setAdmin(request.params.username, true)
      if (!user) return reply.code(404).send({ detail: NO_SUCH_USER })
      return toUserSummary(user)
    },
  )

  // An administrator may demote themself while another one remains.
  app.delete(
    '/admin/users/:username/admin',
    {
      schema: {
        params,
        response: {
          200: UserSummary,
          401: DetailError,
          403: DetailError,
          404: DetailError,
          409: DetailError,
        },
      },
    },
    async (request, reply) => {
      try {
        const user = await accounts.setAdmin(request.params.username, false)
        if (!user) return reply.code(404).send({ detail: NO_SUCH_USER })
        return toUserSummary(user)
      } catch (error) {
        if (!(error instanceof LastAdminError)) throw error
        return reply.code(409).send({ detail: error.message })
      }
    },
  )

  // Bot accounts may send messages with a card (a quote drawn by the web UI); 204 either way,
  // marked again or not, as the account now is what was asked.
  for (const [method, isBot] of [
    ['PUT', true],
    ['DELETE', false],
  ] as const) {
    app.route({
      method,
      url: '/admin/users/:username/bot',
      schema: {
        params,
        response: { 204: Type.Null(), 401: DetailError, 403: DetailError, 404: DetailError },
      },
      handler: async (request, reply) => {
        const user = await accounts.setBot(request.params.username, isBot)
        if (!user) return reply.code(404).send({ detail: NO_SUCH_USER })
        return reply.code(204).send(null)
      },
    })
  }
}
