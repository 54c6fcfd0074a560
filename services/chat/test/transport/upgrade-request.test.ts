import type { IncomingMessage } from 'node:http'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { startStack } from '@finchat/testing'
import t from 'tap'

// An open chat connection costs its server only what the chat needs: once the handshake is
// done, the upgrade request (headers, the URL with its token, Fastify's request and reply) can
// be collected while the websocket stays open. Thousands of idle connections made it count.

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

t.test('an open connection does not keep its upgrade request alive', async (t) => {
  const stack = await startStack(t)
  await stack.createRooms('lobby')
  const instance = stack.chats[0] as (typeof stack.chats)[number]
  const upgrades: WeakRef<IncomingMessage>[] = []
  instance.app.server.on('upgrade', (request: IncomingMessage) => {
    upgrades.push(new WeakRef(request))
  })

  const alice = await stack.user('alice')
  await alice.join('lobby')
  t.equal(upgrades.length, 1, 'one upgrade')
  for (let round = 0; round < 5 && upgrades[0]?.deref(); round++) {
    // A WeakRef is cleared only after the job that read it: collect between macrotasks.
    await new Promise((resolve) => setImmediate(resolve))
    gc()
  }
  t.equal(upgrades[0]?.deref(), undefined, 'the upgrade request was collected')
  t.match(await alice.say('lobby', 'still here'), { body: 'still here' }, 'the connection works')
})
