import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Bus } from '@finchat/bus'
import {
  type ChatEvent,
  CreateRoomBody,
  DetailError,
  FieldErrors,
  formatStamp,
  Room,
  RoomList,
  STREAMS,
} from '@finchat/protocol'
import { Type } from '@sinclair/typebox'
import type { Presence } from '../presence/presence.js'
import { roomNameProblem } from './room-name.js'
import { DuplicateRoomError, type RoomsRepository } from './rooms.repository.js'

export interface AdminRoomOptions {
  rooms: RoomsRepository
  bus: Bus
  presence: Presence
  clock: () => Date
}

const DENIED = { 401: DetailError, 403: DetailError }

/** Room administration for the admin page and scripts; administrators only. */
export const adminRoomRoutes: FastifyPluginAsyncTypebox<AdminRoomOptions> = async (
  app,
  options,
) => {
  const { rooms, bus, presence, clock } = options
  app.addHook('preHandler', app.requireAdmin)

  app.get('/admin/rooms', { schema: { response: { 200: RoomList, ...DENIED } } }, async () => ({
    rooms: (await rooms.list()).map((room) => ({ name: room.name })),
  }))

  app.post(
    '/admin/rooms',
    { schema: { body: CreateRoomBody, response: { 201: Room, 400: FieldErrors, ...DENIED } } },
    async (request, reply) => {
      const { name } = request.body
      const problem = roomNameProblem(name)
      if (problem) return reply.code(400).send({ name: [problem] })
      try {
        const room = await rooms.create(name)
        return reply.code(201).send({ name: room.name })
      } catch (error) {
        if (!(error instanceof DuplicateRoomError)) throw error
        return reply.code(400).send({ name: ['A room with that name already exists.'] })
      }
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
      const room = await rooms.delete(request.params.name)
      if (!room) return reply.code(404).send({ detail: 'No such room.' })
      await presence.forgetRoom(room.name)
      const event: ChatEvent = {
        type: 'room.deleted',
        room: room.name,
        stamp: formatStamp(clock()),
      }
      await bus.append(STREAMS.chatEvents, event)
      return reply.code(204).send(null)
    },
  )
}
