import { createBus } from '@finchat/bus'
import { type ChatEvent, STREAMS } from '@finchat/protocol'
import t from 'tap'
import { cliOnOwnDatabase } from '../cli-process.js'

t.test('an operator adds, lists and deletes rooms from the command line', async (t) => {
  const { admin, prefix } = await cliOnOwnDatabase(t)
  const bus = process.env.REDIS_URL
    ? createBus({ redisUrl: process.env.REDIS_URL, prefix })
    : undefined
  t.teardown(() => bus?.close())

  const added = await admin('rooms', 'add', 'friends', 'family', 'investments')
  t.equal(added.code, 0, added.stderr)
  t.match(added.stdout, /room investments created/)
  t.match((await admin('rooms', 'add', 'Friends')).stdout, /room Friends already exists/)
  const bad = await admin('rooms', 'add', 'ok-room', '1bad', 'a--b')
  t.equal(bad.code, 1)
  t.match(bad.stderr, /1bad: A room name starts with a letter/)
  t.match(bad.stderr, /a--b/)
  t.equal(
    (await admin('rooms', 'list')).stdout,
    'family\nfriends\ninvestments\n',
    'nothing of a bad batch',
  )

  let announced: (event: ChatEvent | undefined) => void = () => {}
  const deletion = new Promise<ChatEvent | undefined>((resolve) => {
    announced = resolve
  })
  const subscription = bus?.subscribe<ChatEvent>(STREAMS.chatEvents, (entries) => {
    announced(entries[0]?.data)
  })
  await subscription?.ready
  const removed = await admin('rooms', 'delete', 'family')
  t.equal(removed.code, 0, removed.stderr)
  t.equal((await admin('rooms', 'list')).stdout, 'friends\ninvestments\n')
  t.equal((await admin('rooms', 'delete', 'family')).code, 1, 'no such room any more')
  if (bus) {
    t.match(await deletion, { type: 'room.deleted', room: 'family' }, 'running instances are told')
  }
})
