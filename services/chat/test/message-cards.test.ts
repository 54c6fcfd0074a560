import { MAX_CARD_BYTES, type MessageNotification, type QuoteCard } from '@finchat/protocol'
import type { ChatClient } from '@finchat/protocol/client'
import t from 'tap'
import { answersTo, isHistory, isMotd, messageIn, startStory } from './helpers/client-story.js'

// The card extension: a bot account's message may carry a card (a quote), checked, stored with
// the message and shown wherever the message is; from anyone else it is refused, and a message
// without one looks exactly as it always did, so clients that know nothing of cards see no
// change.

const story = await startStory(t)
const { stack } = story
await stack.createRooms('quotes', 'forgeries', 'checks', 'late')

const QUOTE: QuoteCard = {
  kind: 'quote',
  symbol: 'AAPL.US',
  date: '2025-06-13',
  time: '22:00:09',
  open: 199.73,
  high: 200.37,
  low: 195.7,
  close: 196.45,
  volume: 51447349,
  previous_close: 199.2,
  series: [
    { date: '2025-06-12', close: 199.2 },
    { date: '2025-06-13', close: 196.45 },
  ],
}
const TEXT = 'AAPL.US quote is $196.45 per share'

/** A bot account connected past the MOTD: registered, marked by an administrator, logged in. */
async function bot(username: string) {
  await stack.register(username)
  await stack.accounts.setBot(username, true)
  const client = await story.connect(await stack.login(username))
  await client.next(isMotd)
  return client
}

const post = (client: ChatClient, room: string, body: string, extra: Record<string, unknown>) =>
  client.sendRaw(JSON.stringify({ type: 'message', room_name: room, body, ...extra }))

const ownEcho = (client: ChatClient, room: string) =>
  client.next((f): f is MessageNotification => messageIn(room)(f) && f.you)

/** The room's history as a member reads it, oldest first. */
async function history(client: ChatClient, room: string) {
  client.send({ type: 'history', room_name: room })
  return (await client.next(isHistory)).messages.reverse()
}

t.test("a bot's card is stored with its message and shown wherever it appears", async (t) => {
  const finbot = await bot('finbot')
  const alice = await story.user('alice')
  await finbot.join('quotes')
  await alice.join('quotes')

  post(finbot, 'quotes', TEXT, { card: QUOTE, client_id: 'q-1' })
  const echo = await ownEcho(finbot, 'quotes')
  t.match(echo, { body: TEXT, client_id: 'q-1', you: true })
  t.same(echo.card, QUOTE, 'the bot sees its card come back')
  const seen = await alice.next(messageIn('quotes', 'finbot'))
  const { client_id: _, ...shared } = echo
  t.same(seen, { ...shared, you: false }, 'and so does the room, without the name')

  const plain = await finbot.say('quotes', 'Quote for NOPE.US not found')
  t.notOk('card' in plain, 'a message without a card has no card key')
  t.notOk('card' in (await alice.next(messageIn('quotes', 'finbot'))))

  const stored = await history(alice, 'quotes')
  t.same(
    stored.map(({ id, body, card }) => ({ id, body, card })),
    [
      { id: echo.id, body: TEXT, card: QUOTE },
      { id: plain.id, body: 'Quote for NOPE.US not found', card: undefined },
    ],
  )
  t.notOk('card' in (stored[1] as object), 'history has no card key for it either')

  const bob = await story.user('bob')
  const joined = await bob.join('quotes')
  t.same(
    joined.status?.messages.map(({ id, card }) => ({ id, card })),
    [
      { id: plain.id, card: undefined },
      { id: echo.id, card: QUOTE },
    ],
    "a joiner's status shows it too",
  )

  // Sent again under its name (the bot reconnected before the echo): the original, card and all.
  post(finbot, 'quotes', TEXT, { card: QUOTE, client_id: 'q-1' })
  t.same(await ownEcho(finbot, 'quotes'), echo, 'the repeat echo carries the card')
})

t.test('a card from anyone but a bot account is refused, and nothing is stored', async (t) => {
  const mallory = await story.user('mallory')
  const carol = await story.user('carol')
  await mallory.join('forgeries')
  await carol.join('forgeries')
  await mallory.next((f) => f.type === 'room:notification' && f.user === 'carol')

  const refused = { type: 'error', code: 'room:card-not-allowed' }
  const reason = 'only bot accounts may send cards'
  t.same(
    await answersTo(
      mallory,
      { type: 'message', room_name: 'forgeries', body: TEXT, card: QUOTE, client_id: 'fake-1' },
      { type: 'message', room_name: 'forgeries', body: TEXT, card: { kind: 'nonsense' } },
    ),
    [
      { ...refused, details: { reason }, client_id: 'fake-1' },
      { ...refused, details: { reason } },
    ],
    'whether or not the card would be valid',
  )
  const next = await mallory.say('forgeries', 'just text')
  t.notOk('card' in next, 'a plain message right after goes through')
  t.same(
    (await history(carol, 'forgeries')).map(({ user, body }) => ({ user, body })),
    [{ user: 'mallory', body: 'just text' }],
    'the refused ones were never stored',
  )
  t.match(await carol.next(messageIn('forgeries')), { body: 'just text' }, 'nor shown')
})

t.test('a malformed or oversized card is refused with the reason; the bot goes on', async (t) => {
  const finbot = await bot('checker')
  await finbot.join('checks')
  const bad: Array<[unknown, RegExp]> = [
    ['AAPL.US', /^not a card/],
    [null, /^not a card/],
    [{ ...QUOTE, kind: 'chart' }, /^not a card/],
    [{ ...QUOTE, close: -1 }, /^not a card at \/close: /],
    [{ ...QUOTE, symbol: 'aapl.us' }, /^not a card at \/symbol: /],
    [{ ...QUOTE, extra: true }, /^not a card/],
    [
      { ...QUOTE, series: Array.from({ length: 61 }, () => ({ date: '2025-06-13', close: 1 })) },
      /^not a card at \/series/,
    ],
    [{ ...QUOTE, symbol: 'X'.repeat(MAX_CARD_BYTES) }, /larger than 8192 bytes/],
  ]
  for (const [card, reason] of bad) {
    const answers = await answersTo(finbot, {
      type: 'message',
      room_name: 'checks',
      body: TEXT,
      card,
      client_id: 'bad-1',
    })
    t.match(
      answers,
      [{ type: 'error', code: 'room:invalid-card', details: { reason }, client_id: 'bad-1' }],
      `card ${JSON.stringify(card).slice(0, 60)}`,
    )
    t.equal(answers.length, 1)
  }
  t.same(await history(finbot, 'checks'), [], 'none was stored')

  // The connection is as usable as before, and the refused name is free.
  t.notOk('card' in (await finbot.say('checks', 'plain')))
  post(finbot, 'checks', TEXT, { card: QUOTE, client_id: 'bad-1' })
  t.same((await ownEcho(finbot, 'checks')).card, QUOTE)
})

t.test('marking takes effect at the next login: the marked session ends', async (t) => {
  await stack.register('newbot')
  const before = await story.connect(await stack.login('newbot'))
  await before.next(isMotd)
  await before.join('late')
  t.match(
    await answersTo(before, { type: 'message', room_name: 'late', body: TEXT, card: QUOTE }),
    [{ code: 'room:card-not-allowed' }],
    'not a bot yet',
  )
  await stack.accounts.setBot('newbot', true)
  t.match(await before.next(), { type: 'notification', code: 'logged-out' })
  const after = await story.connect(await stack.login('newbot'))
  await after.next(isMotd)
  await after.join('late')
  post(after, 'late', TEXT, { card: QUOTE })
  t.same((await ownEcho(after, 'late')).card, QUOTE, 'logged in again, a bot')
})

t.test('every frame conforms', async (t) => story.conformance(t))
