import { type RoomAdmin, roomNameProblem } from '@finchat/chat'
import { CommandError } from './users.commands.js'

/** Creates each named room; all names are checked before any is created. */
export async function addRooms(rooms: RoomAdmin, names: string[]) {
  if (names.length === 0) throw new CommandError('usage: pnpm admin rooms add NAME...')
  const problems = names.flatMap((name) => {
    const problem = roomNameProblem(name)
    return problem ? [`${name}: ${problem}`] : []
  })
  if (problems.length) throw new CommandError(problems.join('\n'))
  const lines: string[] = []
  for (const name of names) {
    const result = await rooms.create(name)
    lines.push(result.ok ? `room ${name} created` : `room ${name} already exists`)
  }
  return lines.join('\n')
}

export async function listRooms(rooms: RoomAdmin) {
  const all = await rooms.list()
  return all.length ? all.map((room) => room.name).join('\n') : 'no rooms'
}

/**
 * Deletes a room and its history. With REDIS_URL, running chat instances are told, so its
 * members get `parted`; without, connected members notice at their next command.
 */
export async function deleteRoom(rooms: RoomAdmin, name: string | undefined) {
  if (!name) throw new CommandError('usage: pnpm admin rooms delete NAME')
  const room = await rooms.delete(name)
  if (!room) throw new CommandError(`no room named ${name}`)
  return `room ${room.name} deleted`
}
