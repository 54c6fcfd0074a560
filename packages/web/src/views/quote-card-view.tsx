import type { Card, QuoteCard } from '@finchat/protocol'
import { chartOf, describeMove, formatPrice, formatVolume, moveOf } from '../chat/quote-figures.js'

// The chart's drawing box; CSS sizes it, the line keeps its width (non-scaling stroke).
const WIDTH = 240
const HEIGHT = 56
const ARROW = { up: '▲', down: '▼', flat: '■' } as const

/**
 * A message's card, drawn for the eyes only: the message's text, which says the same, is what
 * screen readers read (see CardLine), so the card is hidden from them.
 */
export function CardView(props: { card: Card }) {
  switch (props.card.kind) {
    case 'quote':
      return <QuoteCardView card={props.card} />
  }
}

/** The last price, the day's move (signed and coloured) and the recent closes as a line. */
function QuoteCardView(props: { card: QuoteCard }) {
  const { card } = props
  const move = moveOf(card)
  const chart = chartOf(card, WIDTH, HEIGHT)
  const days = chart?.closes.length ?? 0
  return (
    <div class="card quote-card" aria-hidden="true">
      <div class="quote-head">
        <span class="quote-symbol">{card.symbol}</span>
        <span class="quote-price">{formatPrice(card.close)}</span>
        {move && (
          <span class={`quote-move ${move.direction}`}>
            <span class="quote-arrow">{ARROW[move.direction]}</span> {describeMove(move)}{' '}
            <span class="quote-basis">{move.basis}</span>
          </span>
        )}
      </div>
      {chart && (
        <div class="quote-chart">
          <svg
            viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
            preserveAspectRatio="none"
            class="quote-line"
            aria-hidden="true"
            focusable="false"
          >
            <polyline
              points={chart.points}
              fill="none"
              stroke="currentColor"
              stroke-width="2"
              stroke-linejoin="round"
              stroke-linecap="round"
              vector-effect="non-scaling-stroke"
            />
            {/* The last close as a dot: a zero-length round-capped line stays round when stretched. */}
            <line
              x1={chart.end.x}
              y1={chart.end.y}
              x2={chart.end.x}
              y2={chart.end.y}
              stroke="currentColor"
              stroke-width="6"
              stroke-linecap="round"
              vector-effect="non-scaling-stroke"
            />
          </svg>
          <div class="quote-range">
            <span>
              <span class="quote-label">high</span> {formatPrice(chart.high)}
            </span>
            <span>
              <span class="quote-label">low</span> {formatPrice(chart.low)}
            </span>
          </div>
          <div class="quote-span">
            {days === 1 ? `close of ${chart.closes[0]?.date}` : `${days} closes`}
            {days > 1 && `, ${chart.closes[0]?.date} to ${chart.closes[days - 1]?.date}`}
          </div>
        </div>
      )}
      <div class="quote-meta">
        <span>
          {card.date} {card.time}
        </span>
        <span>open {formatPrice(card.open)}</span>
        <span>high {formatPrice(card.high)}</span>
        <span>low {formatPrice(card.low)}</span>
        <span>vol {formatVolume(card.volume)}</span>
      </div>
    </div>
  )
}
