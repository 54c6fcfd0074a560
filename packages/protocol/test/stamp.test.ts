import { Value } from '@sinclair/typebox/value'
import t from 'tap'
import { formatStamp, Stamp } from '../src/index.js'

t.test('formats UTC as YYYY-MM-DD HH:MM:SS, zero-padded', async (t) => {
  t.equal(formatStamp(new Date('2026-11-27T12:12:13Z')), '2026-11-27 12:12:13')
  t.equal(formatStamp(new Date('2026-01-02T03:04:05.999Z')), '2026-01-02 03:04:05', 'truncates ms')
  t.equal(formatStamp(new Date('2025-12-31T23:59:59Z')), '2025-12-31 23:59:59')
  t.equal(formatStamp(new Date('2026-03-01T00:30:00+05:00')), '2026-02-28 19:30:00', 'offsets')
  t.equal(formatStamp(new Date(Date.UTC(987, 0, 1))), '0987-01-01 00:00:00', 'short years')
})

t.test('agrees with toISOString and with the Stamp schema', async (t) => {
  const mismatches: string[] = []
  for (let i = 0; i < 1000; i++) {
    const date = new Date(Math.floor(Math.random() * 4_102_444_800_000))
    const stamp = formatStamp(date)
    const expected = date.toISOString().slice(0, 19).replace('T', ' ')
    if (stamp !== expected || !Value.Check(Stamp, stamp)) mismatches.push(`${expected} → ${stamp}`)
  }
  t.strictSame(mismatches, [])
})

t.test('throws for dates the shape cannot hold', async (t) => {
  t.throws(() => formatStamp(new Date(Number.NaN)), RangeError)
  t.throws(() => formatStamp(new Date('+012345-01-01T00:00:00Z')), RangeError)
})
