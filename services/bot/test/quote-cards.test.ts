import { QUOTE_DATE, standardHistory, startFakeStooq } from '@finchat/testing'
import t from 'tap'
import { answerSeenBy, ask, messageSeenBy, startBot, startChatHost } from './helpers/bot-harness.js'

// A found quote comes with a card: the session from the quote, the previous close and the last
// 60 closes from the daily history, fetched at the same time. The text stays the original's,
// and the history never makes the answer later: when it is not in, the card goes without it.

const REFUSED = (symbol: string) =>
  `The quote service is unavailable for ${symbol}: it refused the request (access denied or daily limit reached). Please try again later.`

const host = await startChatHost(t)
await host.createRooms('investments', 'plain')
const stooq = await startFakeStooq(t)
const QUOTES = { timeoutMs: 1000, retries: 2 }
const { log } = await startBot(t, host, stooq, { quotes: QUOTES })
const alice = await host.user('alice')
await alice.join('investments')

const SESSION = {
  kind: 'quote',
  date: QUOTE_DATE,
  time: '22:00:09',
  open: 93.1,
  high: 94.2,
  low: 92.8,
  volume: 1234567,
}

t.test('a quote with its card: the day, the previous close and 60 closes', async (t) => {
  stooq.quote('aapl.us', '93.42')
  // The history comes first here, as from the cache: the card carries it.
  stooq.script('aapl.us', { delayMs: 500 })
  ask(alice, 'aapl.us')
  const answer = await messageSeenBy(alice)
  t.equal(answer.body, 'AAPL.US quote is $93.42 per share', 'the text as ever')
  const days = standardHistory(93.42)
  t.same(answer.card, {
    ...SESSION,
    symbol: 'AAPL.US',
    close: 93.42,
    previous_close: days.at(-2)?.close,
    series: days.slice(-60),
  })
  t.equal(answer.card?.series?.at(-1)?.date, QUOTE_DATE, 'the series ends on the quote day')
  const [history] = stooq.historyRequestsFor('aapl.us')
  t.match(history?.url, /^\/q\/d\/l\/\?s=aapl\.us&i=d$/, 'the daily history, asked for CSV')
})

t.test('a history that does not answer in time never makes the answer later', async (t) => {
  stooq.quote('slowhist.us', '12.5')
  const slow = { delayMs: 3000 }
  stooq.scriptHistory('slowhist.us', slow, slow, slow)
  const asked = Date.now()
  ask(alice, 'slowhist.us')
  const answer = await messageSeenBy(alice)
  // Waiting for the history would take all its attempts, each to its timeout (and backoffs):
  // the bound is that, not a guess at how fast a loaded machine answers.
  const historyGivesUp = QUOTES.timeoutMs * (QUOTES.retries + 1)
  t.ok(Date.now() - asked < historyGivesUp, 'answered before the history gave up')
  t.equal(answer.body, 'SLOWHIST.US quote is $12.5 per share')
  t.same(answer.card, { ...SESSION, symbol: 'SLOWHIST.US', close: 12.5 }, 'a card without it')
})

t.test('a history that fails alone: the card goes without the series', async (t) => {
  stooq.quote('nohist.us', '7.25')
  stooq.scriptHistory('nohist.us', { status: 500 }, { status: 500 }, { status: 500 })
  ask(alice, 'nohist.us')
  const down = await messageSeenBy(alice)
  t.equal(down.body, 'NOHIST.US quote is $7.25 per share')
  t.same(down.card, { ...SESSION, symbol: 'NOHIST.US', close: 7.25 }, 'history down')

  stooq.quote('quotahist.us', '8.5')
  stooq.scriptHistory('quotahist.us', {
    body: 'Exceeded the daily hits limit',
    contentType: 'text/plain',
  })
  stooq.script('quotahist.us', { delayMs: 300 })
  ask(alice, 'quotahist.us')
  const quota = await messageSeenBy(alice)
  t.equal(quota.body, 'QUOTAHIST.US quote is $8.5 per share')
  t.same(quota.card, { ...SESSION, symbol: 'QUOTAHIST.US', close: 8.5 }, 'history over quota')
  t.equal(stooq.historyRequestsFor('quotahist.us').length, 1, 'quota is not retried')

  // A failed history is not remembered: the next ask gets the series.
  stooq.script('quotahist.us', { delayMs: 300 })
  ask(alice, 'quotahist.us')
  t.equal((await messageSeenBy(alice)).card?.series?.length, 60, 'asked again, it comes')
})

t.test('a quote over quota: the refusal as ever, and no card', async (t) => {
  stooq.quote('quota.us', '1.5')
  stooq.script('quota.us', { body: 'Exceeded the daily hits limit', contentType: 'text/plain' })
  ask(alice, 'quota.us')
  const answer = await messageSeenBy(alice)
  t.equal(answer.body, REFUSED('quota.us'))
  t.notOk('card' in answer, 'no card')
  ask(alice, 'nosuch.us')
  const unknown = await messageSeenBy(alice)
  t.equal(unknown.body, 'I could not find stock data for nosuch.us')
  t.notOk('card' in unknown, 'none for an unknown symbol either')
})

t.test('several symbols, comma-separated: each answered, in the order asked', async (t) => {
  stooq.quote('msft.us', '412.3')
  stooq.quote('gold.us', '2650.1')
  // The first is the slowest: the others wait for it, so that the answers keep the order.
  stooq.script('gold.us', { delayMs: 400 })
  ask(alice, 'gold.us, nosuch.us,MSFT.US')
  const answers = [await messageSeenBy(alice), await messageSeenBy(alice)]
  answers.push(await messageSeenBy(alice))
  t.same(
    answers.map((answer) => answer.body),
    [
      'GOLD.US quote is $2650.1 per share',
      'I could not find stock data for nosuch.us',
      'MSFT.US quote is $412.3 per share',
    ],
  )
  t.same(
    answers.map((answer) => answer.card?.symbol),
    ['GOLD.US', undefined, 'MSFT.US'],
    'a card with each quote',
  )
})

t.test('more than 5 symbols: one answer saying so, and nothing asked of stooq', async (t) => {
  const before = stooq.requests.length
  ask(alice, 'a.us,b.us,c.us,d.us,e.us,f.us')
  t.equal(
    await answerSeenBy(alice),
    'You can ask for at most 5 symbols at once, separated by commas (e.g. /stock=aapl.us,msft.us).',
  )
  ask(alice, 'msft.us')
  t.equal(await answerSeenBy(alice), 'MSFT.US quote is $412.3 per share', 'and only that one')
  t.equal(stooq.requests.length, before + 1, 'only the last command reached stooq')
})

t.test('an account not marked as a bot still answers, as text alone', async (t) => {
  const plain = await startBot(t, host, stooq, {
    username: 'plainbot',
    rooms: ['plain'],
    markedBot: false,
  })
  await alice.join('plain')
  for (let i = 0; i < 2; i++) {
    ask(alice, 'aapl.us', 'plain')
    const answer = await messageSeenBy(alice, 'plainbot', 'plain')
    t.equal(answer.body, 'AAPL.US quote is $93.42 per share')
    t.notOk('card' in answer, 'no card')
  }
  const refusals = plain.log.lines.filter((line) => line.code === 'room:card-not-allowed')
  t.equal(refusals.length, 1, 'the refusal is logged once')
  t.match(refusals[0]?.msg, /mark-bot plainbot/, 'saying how to allow cards')
})

t.test('the log says what each answer carried', async (t) => {
  t.ok(
    log.lines.some((line) => line.msg === 'history request' && line.result === 'quota'),
    'history requests are logged like quotes',
  )
  t.ok(
    log.lines.some((line) => line.msg === 'answered /stock' && line.card === true),
    'answers say whether they had a card',
  )
})
