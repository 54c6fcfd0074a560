import type { Bus } from '@finchat/bus'
import {
  type ChatDb,
  createRoomsRepository,
  DuplicateRoomError,
  roomNameProblem,
} from '@finchat/chat'
import { type ChatEvent, formatStamp, STREAMS } from '@finchat/protocol'
import { CommandError } from './users.commands.js'

/** Creates each named room; all names are checked before any is created. */
export async function addRooms(db: ChatDb, names: string[]) {
  if (names.length === 0) throw new CommandError('usage: pnpm admin rooms add NAME...')
  const problems = names
    .map((name) => [name, roomNameProblem(name)] as const)
    .filter(([, problem]) => problem !== null)
    .map(([name, problem]) => `${name}: ${problem}`)
  if (problems.length) throw new CommandError(problems.join('\n'))
  const rooms = createRoomsRepository(db)
  const lines: string[] = []
  for (const name of names) {
    try {
      await rooms.create(name)
      lines.push(`room ${name} created`)
    } catch (error) {
      if (!(error instanceof DuplicateRoomError)) throw error
      lines.push(`room ${name} already exists`)
    }
  }
  return lines.join('\n')
}

export async function listRooms(db: ChatDb) {
  const rooms = await createRoomsRepository(db).list()
  return rooms.length ? rooms.map((room) => room.name).join('\n') : 'no rooms'
}

/**
 * Deletes a room and its history. With a bus (REDIS_URL), running chat instances are told, so
 * its members get `parted`; without one, connected members notice at their next command.
 */
export async function deleteRoom(db: ChatDb, name: string | undefined, bus?: Bus) {
  if (!name) throw new CommandError('usage: pnpm admin rooms delete NAME')
  const room = await createRoomsRepository(db).delete(name)
  if (!room) throw new CommandError(`no room named ${name}`)
  if (bus) {
    const event: ChatEvent = {
      type: 'room.deleted',
      room: room.name,
      stamp: formatStamp(new Date()),
    }
    await bus.append(STREAMS.chatEvents, event)
  }
  return `room ${room.name} deleted`
}
