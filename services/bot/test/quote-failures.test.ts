import { startFakeStooq } from '@finchat/testing'
import t from 'tap'
import { answerSeenBy, ask, startBot, startChatHost } from './helpers/bot-harness.js'

// Every way the quote service can fail, as a user in the room sees it: a refusal is not an
// unknown symbol, an outage is not a refusal, and there is always an answer, never silence.

const REFUSED = (symbol: string) =>
  `The quote service is unavailable for ${symbol}: it refused the request (access denied or daily limit reached). Please try again later.`
const DOWN = (symbol: string) =>
  `The quote service is unavailable for ${symbol}: it is not working right now. Please try again later.`
const TIMED_OUT = (symbol: string) =>
  `The quote service is unavailable for ${symbol}: it did not answer in time. Please try again later.`

const host = await startChatHost(t)
await host.createRooms('investments', 'slow', 'keyed')
const stooq = await startFakeStooq(t)
stooq.quote('aapl.us', '93.42')
const { log } = await startBot(t, host, stooq, { quotes: { timeoutMs: 300, retries: 2 } })
const alice = await host.user('alice')
await alice.join('investments')

t.test('refusals are answered at once, never retried', async (t) => {
  const shapes = {
    'nokey.us': { status: 404, body: 'Not Found', contentType: 'text/html' },
    'html.us': {
      body: '<!DOCTYPE html><html><body>Access denied. Get an API key.</body></html>',
      contentType: 'text/html',
    },
    'quota.us': { body: 'Exceeded the daily hits limit', contentType: 'text/plain' },
    'other.us': { body: 'Service moved; see our website', contentType: 'text/plain' },
    'forbidden.us': { status: 403, body: 'Forbidden' },
  }
  for (const [symbol, answer] of Object.entries(shapes)) {
    stooq.script(symbol, answer)
    ask(alice, symbol)
    t.equal(await answerSeenBy(alice), REFUSED(symbol), `${symbol}: reported as a refusal`)
    t.equal(stooq.requestsFor(symbol).length, 1, `${symbol}: asked once`)
  }
})

t.test('server errors are retried with backoff, and a late success still answers', async (t) => {
  stooq.quote('flaky.us', '12.5')
  stooq.script('flaky.us', { status: 503 }, { status: 502 })
  ask(alice, 'flaky.us')
  t.equal(await answerSeenBy(alice), 'FLAKY.US quote is $12.5 per share')
  t.equal(stooq.requestsFor('flaky.us').length, 3)
})

t.test('a provider that keeps failing is reported as down after the retries', async (t) => {
  stooq.script('down.us', { status: 500 }, { status: 500 }, { status: 500 })
  ask(alice, 'down.us')
  t.equal(await answerSeenBy(alice), DOWN('down.us'))
  t.equal(stooq.requestsFor('down.us').length, 3, 'one request and two retries')
  stooq.script('cut.us', { hangUp: true }, { hangUp: true }, { hangUp: true })
  ask(alice, 'cut.us')
  t.equal(await answerSeenBy(alice), DOWN('cut.us'), 'connections cut are an outage too')
})

t.test('a provider that does not answer in time', async (t) => {
  const slow = { delayMs: 2000 }
  stooq.script('slow.us', slow, slow, slow)
  ask(alice, 'slow.us')
  t.equal(await answerSeenBy(alice), TIMED_OUT('slow.us'))
})

t.test('an unknown symbol in every shape stooq gives it', async (t) => {
  const header = 'Symbol,Date,Time,Open,High,Low,Close,Volume'
  const rows = {
    'nd.us': 'ND.US,N/D,N/D,N/D,N/D,N/D,N/D,N/D',
    'empty.us': 'EMPTY.US,2026-11-27,22:00:09,1,1,1,,0',
    'zero.us': 'ZERO.US,2026-11-27,22:00:09,0,0,0,0,0',
    'norow.us': '',
  }
  for (const [symbol, row] of Object.entries(rows)) {
    stooq.script(symbol, { body: `${header}\r\n${row}` })
    ask(alice, symbol)
    t.equal(await answerSeenBy(alice), `I could not find stock data for ${symbol}`, symbol)
  }
})

t.test('columns are read by name, wherever stooq puts them', async (t) => {
  stooq.script('moved.us', {
    body: 'Symbol,Close,Date,Volume\r\nMOVED.US,7.25,2026-11-27,100\r\n',
  })
  ask(alice, 'moved.us')
  t.equal(await answerSeenBy(alice), 'MOVED.US quote is $7.25 per share')
})

t.test('ten users asking for one symbol at once cost one request', async (t) => {
  const users = await Promise.all(
    Array.from({ length: 9 }, async (_, i) => {
      const user = await host.user(`crowd${i}`)
      await user.join('investments')
      return user
    }),
  )
  const everyone = [alice, ...users]
  stooq.quote('busy.us', '321.09')
  stooq.script('busy.us', { delayMs: 100, body: `Symbol,Close\r\nBUSY.US,321.09\r\n` })
  for (const user of everyone) ask(user, 'busy.us')
  const seen = await Promise.all(
    everyone.map(async (user) => {
      const answers = []
      for (let i = 0; i < everyone.length; i++) answers.push(await answerSeenBy(user))
      return answers
    }),
  )
  for (const answers of seen)
    t.same(new Set(answers), new Set(['BUSY.US quote is $321.09 per share']))
  t.equal(seen[0]?.length, 10, 'every command was answered')
  t.equal(stooq.requestsFor('busy.us').length, 1, 'stooq was asked once')
})

t.test('the answer comes before the command is too old, however slow stooq is', async (t) => {
  const quotes = { timeoutMs: 4000, retries: 2 }
  const slow = await startBot(t, host, stooq, {
    username: 'slowbot',
    rooms: ['slow'],
    maxAgeMs: 2000,
    quotes,
  })
  await alice.join('slow')
  stooq.script('tardy.us', { delayMs: 5000 }, { delayMs: 5000 }, { delayMs: 5000 })
  const asked = Date.now()
  ask(alice, 'tardy.us', 'slow')
  t.equal(await answerSeenBy(alice, slow.username, 'slow'), TIMED_OUT('tardy.us'))
  // Left to its timeouts the bot would answer after three attempts of 4 s each. Only the max
  // age (2 s, less the margin for posting) ends it before the first attempt's own timeout;
  // the client's clock adds the round trips, which a loaded CI machine stretches, so the
  // bound is that timeout rather than the max age itself.
  t.ok(
    Date.now() - asked < quotes.timeoutMs,
    'the max age cut the lookup short, before its first timeout',
  )
})

t.test('the API key goes to stooq, and never into the log', async (t) => {
  const apiKey = 'k3y-that/needs&encoding'
  const keyed = await startFakeStooq(t, { apiKey })
  keyed.quote('aapl.us', '93.42')
  const withKey = await startBot(t, host, keyed, {
    username: 'keybot',
    rooms: ['keyed'],
    quotes: { apiKey },
  })
  await startBot(t, host, keyed, { username: 'nokeybot', rooms: ['keyed'] })
  await alice.join('keyed')
  ask(alice, 'aapl.us', 'keyed')
  const byBot = new Map<string, string>()
  for (let i = 0; i < 2; i++) {
    const frame = await alice.next(
      (f) => f.type === 'room:notification' && f.code === 'message' && f.room_name === 'keyed',
    )
    if (frame.type === 'room:notification' && frame.code === 'message')
      byBot.set(frame.user, frame.body)
  }
  t.equal(byBot.get('keybot'), 'AAPL.US quote is $93.42 per share', 'with the key: a quote')
  t.equal(byBot.get('nokeybot'), REFUSED('aapl.us'), "without it: stooq's 404, a refusal")
  t.ok(
    keyed.requests.some((request) => request.apiKey === apiKey),
    'the key arrived intact',
  )
  t.notMatch(withKey.log.text(), 'k3y', 'the key is nowhere in the log')
})

t.test('the bot keeps answering after all this, and the log says what happened', async (t) => {
  ask(alice, 'aapl.us')
  t.equal(await answerSeenBy(alice), 'AAPL.US quote is $93.42 per share')
  const results = log.lines
    .filter((line) => line.msg === 'quote request')
    .map((line) => line.result)
  for (const result of ['refused', 'quota', 'down', 'timeout', 'found', 'not-found']) {
    t.ok(results.includes(result), `a ${result} request is logged`)
  }
})
