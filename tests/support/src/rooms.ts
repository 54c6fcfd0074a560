import type { RoomAdmin } from '@finchat/chat'

/** Creates the rooms through the use case, as the CLI does; a refused name fails the test. */
export async function createRoomsOrFail(rooms: RoomAdmin, names: string[]) {
  const created = []
  for (const name of names) {
    const result = await rooms.create(name)
    if (!result.ok) throw new Error(`room ${name}: ${result.problem}`)
    created.push(result.room)
  }
  return created
}
