import { type Static, Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'

// Extension: a message may carry a card, a typed object a client can draw instead of (or beside)
// the text. Clients that do not know `card` see the message's text, which always says the same.
// Only bot accounts may send one, so that nobody can post a quote that looks like the bot's.

/** Most a card may take as JSON, in UTF-16 code units: 60 closes fit in a quarter of it. */
export const MAX_CARD_BYTES = 8192

/** Most daily closes a quote card carries. */
export const MAX_CARD_SERIES = 60

const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })
const Price = Type.Number({ minimum: 0, maximum: 1e12 })

/**
 * A stock quote: the session's open, high, low and close (the last price) at `date` `time`, the
 * previous session's close (for the day's move) and up to 60 daily closes, oldest first. The two
 * last come from the daily history, and are absent when it could not be read.
 */
export const QuoteCard = Type.Object(
  {
    kind: Type.Literal('quote'),
    /** As the provider writes it, e.g. `AAPL.US`. */
    symbol: Type.String({ pattern: '^[A-Z0-9.^-]{1,20}$' }),
    date: Day,
    /** The provider's time of the quote, `HH:MM:SS`. */
    time: Type.String({ pattern: '^\\d{2}:\\d{2}:\\d{2}$' }),
    open: Price,
    high: Price,
    low: Price,
    close: Price,
    volume: Type.Integer({ minimum: 0 }),
    previous_close: Type.Optional(Price),
    series: Type.Optional(
      Type.Array(Type.Object({ date: Day, close: Price }, { additionalProperties: false }), {
        minItems: 1,
        maxItems: MAX_CARD_SERIES,
      }),
    ),
  },
  { additionalProperties: false },
)
export type QuoteCard = Static<typeof QuoteCard>

/** Every kind of card; `kind` tells them apart (one so far). */
export const Card = Type.Union([QuoteCard])
export type Card = Static<typeof Card>

const cardCheck = TypeCompiler.Compile(Card)

export type CardCheck = { ok: true; card: Card } | { ok: false; reason: string }

/** Whether a value sent as a message's `card` is one, and why not. */
export function checkCard(value: unknown): CardCheck {
  let size: number
  try {
    size = JSON.stringify(value)?.length ?? 0
  } catch {
    return { ok: false, reason: 'the card is not JSON' }
  }
  if (size > MAX_CARD_BYTES) {
    return { ok: false, reason: `the card is larger than ${MAX_CARD_BYTES} bytes` }
  }
  if (cardCheck.Check(value)) return { ok: true, card: value }
  const first = cardCheck.Errors(value).First()
  const where = first?.path ? ` at ${first.path}` : ''
  return { ok: false, reason: `not a card${where}: ${first?.message ?? 'unknown kind'}` }
}
