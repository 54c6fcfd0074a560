export type HeaderToken =
  | { kind: 'none' }
  | { kind: 'malformed'; detail: string }
  | { kind: 'token'; token: string }

const SCHEMES = new Set(['token', 'bearer'])

/**
 * Reads `Authorization: Token <t>` (or `Bearer <t>`) the way the original service did: another
 * scheme means no credentials; the right scheme with no token or extra words is malformed.
 */
export function tokenFromAuthorization(header: string | undefined): HeaderToken {
  if (!header) return { kind: 'none' }
  const parts = header.trim().split(/\s+/)
  if (!SCHEMES.has(parts[0]?.toLowerCase() ?? '')) return { kind: 'none' }
  if (parts.length === 1) {
    return { kind: 'malformed', detail: 'Invalid token header. No credentials provided.' }
  }
  if (parts.length > 2) {
    return {
      kind: 'malformed',
      detail: 'Invalid token header. Token string should not contain spaces.',
    }
  }
  return { kind: 'token', token: parts[1] as string }
}
