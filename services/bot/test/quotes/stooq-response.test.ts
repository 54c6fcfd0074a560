import { Readable } from 'node:stream'
import t from 'tap'
import { readTail } from '../../src/quotes/stooq-client.js'
import { readStooqBody, readStooqHistory } from '../../src/quotes/stooq-response.js'

const HEADER = 'Date,Open,High,Low,Close,Volume'

/** `count` days of history from 1990 on, one a day, the close the day's number. */
function history(count: number): string {
  const rows = []
  const day = new Date('1990-01-01T00:00:00Z')
  for (let i = 1; i <= count; i++) {
    rows.push(`${day.toISOString().slice(0, 10)},${i},${i},${i},${i},100`)
    day.setUTCDate(day.getUTCDate() + 1)
  }
  return `${HEADER}\r\n${rows.join('\r\n')}\r\n`
}

t.test('a quote row gives the session the card is built from', async (t) => {
  const found = readStooqBody(
    'Symbol,Date,Time,Open,High,Low,Close,Volume\r\nAAPL.US,2026-11-27,22:00:09,93.1,94.2,92.8,93.42,1234567\r\n',
  )
  t.same(found, {
    kind: 'found',
    symbol: 'AAPL.US',
    close: '93.42',
    session: {
      date: '2026-11-27',
      time: '22:00:09',
      open: 93.1,
      high: 94.2,
      low: 92.8,
      close: 93.42,
      volume: 1234567,
    },
  })
  const index = readStooqBody(
    'Symbol,Date,Time,Open,High,Low,Close,Volume\r\nWIG,2026-11-27,17:15:00,81000,81300,80900,81234.5,\r\n',
  )
  t.match(index, { session: { volume: 0 } }, 'an index without volume traded none')
  const partial = readStooqBody('Symbol,Close\r\nBUSY.US,321.09\r\n')
  t.same(partial, { kind: 'found', symbol: 'BUSY.US', close: '321.09' }, 'no session: no card')
})

t.test('a history keeps its last 60 days, oldest first', async (t) => {
  const result = readStooqHistory(history(100))
  if (result.kind !== 'found') throw new Error(`not found: ${JSON.stringify(result)}`)
  t.equal(result.days.length, 60)
  t.same(result.days[0], { date: '1990-02-10', close: 41 })
  t.same(result.days.at(-1), { date: '1990-04-10', close: 100 })
  const short = readStooqHistory(`${HEADER}\r\n2026-11-26,1,1,1,92.5,10\r\nbad,1,1,1,x,1\r\n`)
  t.same(short, { kind: 'found', days: [{ date: '2026-11-26', close: 92.5 }] }, 'odd rows left out')
})

t.test("stooq's other answers to a history request", async (t) => {
  t.same(readStooqHistory('No data'), { kind: 'not-found' }, 'an unknown symbol')
  t.same(readStooqHistory(`${HEADER}\r\n`), { kind: 'not-found' }, 'a history without rows')
  t.same(readStooqHistory('Exceeded the daily hits limit'), {
    kind: 'unavailable',
    reason: 'quota',
  })
  t.same(readStooqHistory('<!DOCTYPE html><html>Get an API key</html>'), {
    kind: 'unavailable',
    reason: 'refused',
  })
})

t.test('a long history is read through, keeping only its header and its end', async (t) => {
  const text = history(30_000)
  t.ok(text.length > 1_000_000, 'a history of decades, over a MB')
  // Chunks of 1000 bytes cut rows (and the header) anywhere.
  const bytes = Buffer.from(text)
  const chunks = Array.from({ length: Math.ceil(bytes.length / 1000) }, (_, i) =>
    bytes.subarray(i * 1000, (i + 1) * 1000),
  )
  const body = Readable.from(chunks)
  const kept = await readTail(body, 8 * 1024 * 1024, 16 * 1024)
  t.ok(kept !== null && kept.length < 40 * 1024, 'what is kept stays small')
  const result = readStooqHistory(kept ?? '')
  if (result.kind !== 'found') throw new Error(`not found: ${JSON.stringify(result)}`)
  t.equal(result.days.length, 60)
  t.same(result.days.at(-1)?.close, 30_000, 'down to the last row')
  t.equal(
    await readTail(Readable.from([Buffer.from(text)]), 1024 * 1024, 16 * 1024),
    null,
    'beyond the byte bound, nothing',
  )
})
