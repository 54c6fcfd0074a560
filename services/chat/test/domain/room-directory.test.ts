import t from 'tap'
import type { RoomRow } from '../../src/db/schema.js'
import { createRoomDirectory } from '../../src/domain/room-directory.js'
import type { RoomsRepository } from '../../src/domain/rooms.repository.js'

// Joins look a room up by name; the directory remembers rooms so that only the first join to a
// room asks the database, and forgets a room when it is deleted.

function database(names: string[]) {
  const lookups: string[] = []
  let nextId = 1
  const rows = new Map(
    names.map((name) => [name, { id: nextId++, name, created_at: new Date() } as RoomRow]),
  )
  let pause: Promise<void> | undefined
  const rooms = {
    async findByName(name: string) {
      lookups.push(name)
      await pause
      return rows.get(name)
    },
  } as unknown as RoomsRepository
  return {
    rooms,
    lookups,
    rows,
    hold() {
      let release = () => {}
      pause = new Promise((resolve) => {
        release = resolve
      })
      return () => {
        pause = undefined
        release()
      }
    },
  }
}

t.test('a known room is looked up once; a missing one every time', async (t) => {
  const db = database(['Lobby'])
  const directory = createRoomDirectory(db.rooms)
  t.equal((await directory.find('Lobby'))?.id, 1)
  t.equal((await directory.find('Lobby'))?.id, 1)
  t.equal(await directory.find('nowhere'), undefined)
  t.equal(await directory.find('nowhere'), undefined, 'a room created later is found then')
  t.same(db.lookups, ['Lobby', 'nowhere', 'nowhere'])
})

t.test(
  'a deleted room is forgotten, whatever the case of the name it was deleted by',
  async (t) => {
    const db = database(['Lobby'])
    const directory = createRoomDirectory(db.rooms)
    await directory.find('Lobby')
    directory.forget('lobby')
    db.rows.set('Lobby', { id: 2, name: 'Lobby', created_at: new Date() } as RoomRow)
    t.equal((await directory.find('Lobby'))?.id, 2, 'the room created again under that name')
  },
)

t.test('a lookup that overlapped a deletion is not remembered', async (t) => {
  const db = database(['Lobby'])
  const directory = createRoomDirectory(db.rooms)
  const release = db.hold()
  const lookup = directory.find('Lobby')
  directory.forget('Lobby')
  release()
  t.equal((await lookup)?.id, 1, 'answered with what was read')
  await directory.find('Lobby')
  t.same(db.lookups, ['Lobby', 'Lobby'], 'and asked again next time')
})
