import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { DetailError, UserList, UserSummary } from '@finchat/protocol'
import { Type } from '@sinclair/typebox'
import type { Accounts } from '../accounts/accounts.service.js'
import { toUserSummary } from '../users/user-views.js'

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

  app.post(
    '/admin/users/:username/admin',
    {
      schema: {
        params: Type.Object({ username: Type.String({ maxLength: 150 }) }),
        response: { 200: UserSummary, 401: DetailError, 403: DetailError, 404: DetailError },
      },
    },
    async (request, reply) => {
      const user = await accounts.setAdmin(request.params.username, true)
      if (!user) return reply.code(404).send({ detail: 'No such user.' })
      return toUserSummary(user)
    },
  )
}
