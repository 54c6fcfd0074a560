import { Type } from '@sinclair/typebox'

/** A wire `stamp`, as `formatStamp` writes it. */
export const Stamp = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}$' })

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`)

/**
 * Formats a wire `stamp`: `YYYY-MM-DD HH:MM:SS` in UTC. Runs once per message, hence plain
 * getters rather than Intl. Years outside 0..9999 cannot be written in this shape, so they
 * throw like an invalid date does instead of producing a stamp clients cannot parse.
 */
export function formatStamp(date: Date): string {
  const year = date.getUTCFullYear()
  if (!(year >= 0 && year <= 9999)) throw new RangeError(`formatStamp: unrepresentable date`)
  const yyyy = year >= 1000 ? `${year}` : `${year}`.padStart(4, '0')
  const month = pad2(date.getUTCMonth() + 1)
  const day = pad2(date.getUTCDate())
  const time = `${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())}`
  return `${yyyy}-${month}-${day} ${time}`
}
