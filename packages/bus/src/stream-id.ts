export interface StreamId {
  ms: number
  seq: number
}

const idPattern = /^(\d+)(?:-(\d+))?$/

/** Parses a Redis stream id; like Redis, a bare `ms` means `ms-0`. */
export function parseId(id: string): StreamId {
  const match = idPattern.exec(id)
  const ms = Number(match?.[1])
  const seq = Number(match?.[2] ?? 0)
  if (!match || !Number.isSafeInteger(ms) || !Number.isSafeInteger(seq)) {
    throw new TypeError(`invalid stream id: ${id}`)
  }
  return { ms, seq }
}

export function compareStreamIds(a: StreamId, b: StreamId): number {
  return a.ms === b.ms ? a.seq - b.seq : a.ms - b.ms
}

export function compareIds(a: string, b: string): number {
  return compareStreamIds(parseId(a), parseId(b))
}

/** Throws unless `after` is '$' or a stream id, so a typo fails at the call, not in the loop. */
export function checkAfter(after: string): string {
  if (after !== '$') parseId(after)
  return after
}
