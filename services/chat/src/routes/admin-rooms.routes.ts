import formbody from '@fastify/formbody'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { CreateRoomBody, DetailError, FieldErrors, Room, RoomList } from '@finchat/protocol'
import { sessionAuthPlugin, type TokenVerifier } from '@finchat/sessions'
import { Type } from '@sinclair/typebox'
import type { RoomAdmin } from '../domain/room-admin.js'

export interface AdminRoomOptions {
  roomAdmin: RoomAdmin
  verify: TokenVerifier
  cookieName: string
}

const DENIED = { 401: DetailError, 403: DetailError }

/** Room administration over HTTP, for the admin page and scripts; administrators only. */
export const adminRoomRoutes: FastifyPluginAsyncTypebox<AdminRoomOptions> = async (
  app,
  options,
) => {
  const { roomAdmin } = options
  // Admin bodies, like every REST body of the protocol, may be JSON or a form.
  await app.register(formbody)
  await app.register(sessionAuthPlugin, { verify: options.verify, cookieName: options.cookieName })
  app.addHook('preHandler', app.requireAdmin)

  app.get('/admin/rooms', { schema: { response: { 200: RoomList, ...DENIED } } }, async () => ({
    rooms: (await roomAdmin.list()).map((room) => ({ name: room.name })),
  }))

  app.post(
    '/admin/rooms',
    { schema: { body: CreateRoomBody, response: { 201: Room, 400: FieldErrors, ...DENIED } } },
    async (request, reply) => {
      const created = await roomAdmin.create(request.body.name)
      if (!created.ok) return reply.code(400).send({ name: [created.problem] })
      return reply.code(201).send({ name: created.room.name })
    },
  )

  app.delete(
    '/admin/rooms/:name',
    {
      schema: {
        params: Type.Object({ name: Type.String({ maxLength: 200 }) }),
        response: { 204: Type.Null(), 404: DetailError, ...DENIED },
      },
    },
    async (request, reply) => {
      const room = await roomAdmin.delete(request.params.name)
      if (!room) return reply.code(404).send({ detail: 'No such room.' })
      return reply.code(204).send(null)
    },
  )
}
