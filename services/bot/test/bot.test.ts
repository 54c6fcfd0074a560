import { startFakeStooq } from '@finchat/testing'
import t from 'tap'
import { answerSeenBy, ask, startBot, startChatHost } from './helpers/bot-harness.js'

// A room with the bot in it, as its users see it, for both ways commands reach the bot: the
// `chat:commands` stream (consumer group) and the `custom` notifications on its websocket.

for (const source of ['stream', 'socket'] as const) {
  t.test(`with commands from the ${source}`, async (t) => {
    const host = await startChatHost(t)
    await host.createRooms('investments', 'friends')
    const stooq = await startFakeStooq(t)
    stooq.quote('aapl.us', '93.42')
    stooq.quote('wig', '81234.5')
    const { log } = await startBot(t, host, stooq, { source })
    const alice = await host.user('alice')
    const bob = await host.user('bob')
    await alice.join('investments')
    await alice.join('friends')
    await bob.join('investments')

    t.test(
      'a quote, seen by everyone in the room soon after the quote service answers',
      async (t) => {
        ask(alice, 'aapl.us')
        const [forAlice, forBob] = await Promise.all([answerSeenBy(alice), answerSeenBy(bob)])
        const answeredAt = Date.now()
        t.equal(forAlice, 'AAPL.US quote is $93.42 per share')
        t.equal(forBob, forAlice)
        const [request] = stooq.requestsFor('aapl.us')
        t.match(
          request?.url,
          /^\/q\/l\/\?s=aapl\.us&f=sd2t2ohlcv&h&e=csv$/,
          'stooq was asked for CSV',
        )
        t.ok(request && answeredAt - request.at < 1000, 'the answer came within a second')
      },
    )

    // From here on alice is the observer; bob's copies of the answers queue up unread.
    t.test('the symbol as the quote service spells it, any case asked', async (t) => {
      ask(bob, 'WIG')
      t.equal(await answerSeenBy(alice), 'WIG quote is $81234.5 per share')
    })

    t.test('an unknown symbol is not found, named as the user wrote it', async (t) => {
      ask(alice, 'nosuch.us')
      t.equal(await answerSeenBy(alice), 'I could not find stock data for nosuch.us')
    })

    t.test('a payload that cannot be a symbol is not found without asking stooq', async (t) => {
      const before = stooq.requests.length
      ask(alice, 'aapl.us; DROP TABLE')
      t.equal(await answerSeenBy(alice), 'I could not find stock data for aapl.us; DROP TABLE')
      ask(alice, 'x'.repeat(21))
      t.equal(await answerSeenBy(alice), `I could not find stock data for ${'x'.repeat(21)}`)
      t.equal(stooq.requests.length, before, 'no request went out')
    })

    t.test('other commands are ignored, and logged', async (t) => {
      ask(alice, 'paris', 'investments', 'weather')
      ask(alice, 'aapl.us')
      // The bot answers in order of arrival: an answer to /weather would come first.
      t.equal(await answerSeenBy(alice), 'AAPL.US quote is $93.42 per share')
      t.ok(
        log.lines.some(
          (line) =>
            line.msg === 'ignored a command other than /stock' && line.command === 'weather',
        ),
        'the ignored command is in the log',
      )
    })

    t.test('only the rooms it joined', async (t) => {
      const before = stooq.requests.length
      ask(alice, 'aapl.us', 'friends')
      ask(alice, 'wig', 'investments')
      t.equal(await answerSeenBy(alice), 'WIG quote is $81234.5 per share')
      t.equal(stooq.requests.length, before + 1, 'only the command in its room reached stooq')
      t.notOk(
        alice.frames.some(
          (f) => f.type === 'room:notification' && f.room_name === 'friends' && f.user === 'finbot',
        ),
        'nothing from the bot in friends',
      )
    })
  })
}
