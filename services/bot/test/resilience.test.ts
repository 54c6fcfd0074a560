import type { Bus } from '@finchat/bus'
import { type CustomCommand, formatStamp, type ServerFrame, STREAMS } from '@finchat/protocol'
import { type ApiClient, type ChatClient, createApiClient } from '@finchat/protocol/client'
import { PASSWORD, startFakeStooq } from '@finchat/testing'
import t from 'tap'
import { createChatSession } from '../src/chat/chat-session.js'
import { serverUrls } from '../src/config.js'
import {
  answerSeenBy,
  ask,
  type ChatHost,
  capturedLogger,
  startBot,
  startChatHost,
} from './helpers/bot-harness.js'

// The bot outlives what goes wrong around it: the chat server restarting, its session being
// logged out, commands arriving while it is away.

const joinedBy = (user: string, room: string) => (f: ServerFrame) =>
  f.type === 'room:notification' && f.code === 'joined' && f.user === user && f.room_name === room
const partedBy = (user: string, room: string) => (f: ServerFrame) =>
  f.type === 'room:notification' && f.code === 'parted' && f.user === user && f.room_name === room

/** A user who (re)joins `room` and waits until `bot` is there too, however the two race. */
async function joinWithBot(host: ChatHost, user: string, room = 'investments', bot = 'finbot') {
  const client = await host.user(user)
  const joined = await client.join(room)
  if (!joined.status?.users.some((member) => member.name === bot)) {
    await client.next(joinedBy(bot, room), 10_000)
  }
  return client
}

for (const source of ['stream', 'socket'] as const) {
  t.test(`the chat server restarts (commands from the ${source})`, async (t) => {
    const host = await startChatHost(t)
    await host.createRooms('investments')
    const stooq = await startFakeStooq(t)
    stooq.quote('aapl.us', '93.42')
    const { log } = await startBot(t, host, stooq, { source })
    const before = await joinWithBot(host, 'alice')
    await host.restart(200)
    t.equal((await before.closed).code, 1012, 'clients are told the service restarts')
    const alice = await joinWithBot(host, 'alice2')
    ask(alice, 'aapl.us')
    t.equal(await answerSeenBy(alice), 'AAPL.US quote is $93.42 per share')
    t.ok(
      log.lines.some((line) => line.msg === 'reconnected to the chat server'),
      'the bot logged its reconnection',
    )
  })
}

t.test('a command posted while the bot is away is answered when it is back', async (t) => {
  const host = await startChatHost(t)
  await host.createRooms('investments')
  const stooq = await startFakeStooq(t)
  stooq.quote('aapl.us', '93.42')
  await startBot(t, host, stooq, { source: 'stream' })
  const bus = host.newBus()
  // The chat server goes away for a moment; a command another instance published is waiting.
  await host.restart(0)
  const now = new Date()
  const command: CustomCommand = {
    type: 'command.custom',
    room: 'investments',
    user: 'alice',
    command: 'stock',
    payload: 'aapl.us',
    stamp: formatStamp(now),
    at_ms: now.getTime(),
  }
  await bus.append(STREAMS.chatCommands, command)
  const alice = await host.user('alice')
  const joined = await alice.join('investments')
  const inHistory = joined.status?.messages.find((m) => m.user === 'finbot')
  const answer = inHistory?.body ?? (await answerSeenBy(alice))
  t.equal(answer, 'AAPL.US quote is $93.42 per share')
})

t.test('logged out, the bot logs in again and returns to its rooms', async (t) => {
  const host = await startChatHost(t)
  await host.createRooms('investments', 'friends')
  await host.register('finbot')
  const tokens: string[] = []
  const { httpUrl, wsUrl } = serverUrls(host.host)
  const real = createApiClient(httpUrl)
  // The session's own login, watched, so that the test can log out the very token it uses.
  const api: ApiClient = {
    ...real,
    async login(body) {
      const token = await real.login(body)
      tokens.push(token)
      return token
    },
  }
  const session = createChatSession({
    httpUrl,
    wsUrl,
    host: host.host,
    username: 'finbot',
    password: PASSWORD,
    rooms: [],
    logger: capturedLogger().logger,
    reconnect: { minMs: 50, maxMs: 200 },
    api,
  })
  t.teardown(() => session.stop())
  await session.start()
  t.ok(session.isJoined('investments') && session.isJoined('friends'), 'in every room listed')
  const alice = await host.user('alice')
  await alice.join('friends')

  await host.logout(tokens[0] as string)
  await alice.next(partedBy('finbot', 'friends'))
  await alice.next(joinedBy('finbot', 'friends'), 10_000)
  t.equal(tokens.length, 2, 'it logged in again')
  await session.say('friends', 'back again', Date.now() + 5000)
  t.match(await alice.next((f) => f.type === 'room:notification' && f.code === 'message'), {
    user: 'finbot',
    body: 'back again',
  })
})

t.test('replicas in one group share the commands, each answered once', async (t) => {
  const host = await startChatHost(t)
  await host.createRooms('investments', 'vault')
  const stooq = await startFakeStooq(t)
  const symbols = Array.from({ length: 20 }, (_, i) => `s${i}.us`)
  for (const [i, symbol] of symbols.entries()) stooq.quote(symbol, `${i + 1}.5`)
  await startBot(t, host, stooq, { source: 'stream', username: 'finbot1' })
  await startBot(t, host, stooq, { source: 'stream', username: 'finbot2' })
  const alice = await joinWithBot(host, 'alice', 'investments', 'finbot1')
  const answers = new Map<string, string[]>()
  alice.onFrame((f) => {
    if (f.type !== 'room:notification' || f.code !== 'message' || f.you) return
    answers.set(f.body, [...(answers.get(f.body) ?? []), f.user])
  })

  // One at a time: whichever replica waits for the stream takes the next command.
  for (const symbol of symbols.slice(0, 6)) {
    ask(alice, symbol)
    await alice.next((f) => f.type === 'room:notification' && f.code === 'message' && !f.you)
  }
  // All at once.
  for (const symbol of symbols.slice(6)) ask(alice, symbol)
  for (const _ of symbols.slice(6)) {
    await alice.next((f) => f.type === 'room:notification' && f.code === 'message' && !f.you)
  }
  // A last command, answered after everything before it was: late duplicates would be in by now.
  stooq.quote('last.us', '1')
  ask(alice, 'last.us')
  await alice.next(
    (f) => f.type === 'room:notification' && f.code === 'message' && f.body.startsWith('LAST.US'),
  )

  for (const [i, symbol] of symbols.entries()) {
    const text = `${symbol.toUpperCase()} quote is $${i + 1}.5 per share`
    t.equal(answers.get(text)?.length, 1, `${symbol} answered once`)
  }
  const answerers = new Set([...answers.values()].flat())
  t.same([...answerers].sort(), ['finbot1', 'finbot2'], 'both replicas took part')
})

t.test('a bot that died before answering answers when it restarts', async (t) => {
  const host = await startChatHost(t)
  await host.createRooms('vault')
  const stooq = await startFakeStooq(t)
  stooq.quote('gold.us', '2650.1')
  const bus = host.newBus()
  // The bot's consumer takes the command and dies before answering (nothing acknowledged).
  let taken!: () => void
  const took = new Promise<void>((resolve) => {
    taken = resolve
  })
  const dying = bus.consume(STREAMS.chatCommands, 'vault-bots', 'vaultbot', () => taken(), {
    start: '$',
  })
  await dying.ready
  const alice: ChatClient = await host.user('alice')
  await alice.join('vault')
  ask(alice, 'gold.us', 'vault')
  await took
  await dying.close()

  await startBot(t, host, stooq, {
    source: 'stream',
    username: 'vaultbot',
    rooms: ['vault'],
    group: 'vault-bots',
  })
  t.equal(await answerSeenBy(alice, 'vaultbot', 'vault'), 'GOLD.US quote is $2650.1 per share')
})

t.test(
  'a bot that died after answering, before acknowledging, does not answer twice',
  async (t) => {
    const host = await startChatHost(t)
    await host.createRooms('vault')
    const stooq = await startFakeStooq(t)
    stooq.quote('gold.us', '2650.1')
    // Its acknowledgements never reach the stream: the command stays pending, as when a replica
    // dies between posting its answer and acknowledging the command.
    const shared = host.newBus()
    const unacknowledging: Bus = {
      ...shared,
      ack: async () => {},
      consume: shared.consume.bind(shared),
    }
    const first = await startBot(t, host, stooq, {
      source: 'stream',
      username: 'vaultbot',
      rooms: ['vault'],
      group: 'vault-bots',
      bus: unacknowledging,
    })
    const alice: ChatClient = await host.user('alice')
    await alice.join('vault')
    ask(alice, 'gold.us', 'vault')
    t.equal(await answerSeenBy(alice, 'vaultbot', 'vault'), 'GOLD.US quote is $2650.1 per share')
    await first.bot.stop()

    // Back under the same name, it gets its pending command again and answers it under the same
    // client id: the chat stores nothing new and echoes the original to the bot alone.
    const second = await startBot(t, host, stooq, {
      source: 'stream',
      username: 'vaultbot',
      rooms: ['vault'],
      group: 'vault-bots',
    })
    await second.log.until((line) => line.msg === 'answered /stock')
    alice.send({ type: 'message', room_name: 'vault', body: 'anything else?' })
    const next = await alice.next(
      (f) => f.type === 'room:notification' && f.code === 'message' && f.room_name === 'vault',
    )
    t.match(next, { user: 'alice', body: 'anything else?' }, 'no second answer came before it')
  },
)

t.test('commands older than the max age are dropped, not answered late', async (t) => {
  const host = await startChatHost(t)
  await host.createRooms('investments')
  const stooq = await startFakeStooq(t)
  stooq.quote('aapl.us', '93.42')
  const { log } = await startBot(t, host, stooq, { source: 'stream' })
  const alice = await joinWithBot(host, 'alice')
  const old = new Date(Date.now() - 60_000)
  await host.newBus().append(STREAMS.chatCommands, {
    type: 'command.custom',
    room: 'investments',
    user: 'alice',
    command: 'stock',
    payload: 'old.us',
    stamp: formatStamp(old),
    at_ms: old.getTime(),
  } satisfies CustomCommand)
  ask(alice, 'aapl.us')
  t.equal(
    await answerSeenBy(alice),
    'AAPL.US quote is $93.42 per share',
    'the next answer is the fresh one',
  )
  t.equal(stooq.requestsFor('old.us').length, 0)
  t.ok(log.lines.some((line) => line.msg === 'dropped a command too old to answer'))
})
