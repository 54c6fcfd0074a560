import { createVerifier } from 'fast-jwt'
import type { RevocationList } from './revocation-list.js'
import { type Session, sessionFrom, TOKEN_ALGORITHM } from './session.js'

export type TokenVerifier = (token: string) => Promise<Session | null>

/**
 * Verifies a token locally (signature, expiry, claims, revocation list): no call to auth per
 * request or per websocket. Answers null for any token that must not authenticate; a revocation
 * list that cannot be reached throws, so callers fail closed.
 */
export function createTokenVerifier(options: {
  publicKey: string
  /**
   * Absent only where the caller checks the durable record itself (auth, with its sessions
   * table): it then answers while Redis is down.
   */
  revocations?: RevocationList
}): TokenVerifier {
  const verifySignature = createVerifier({
    key: options.publicKey,
    algorithms: [TOKEN_ALGORITHM],
    cache: 1000,
  })
  return async (token) => {
    let payload: unknown
    try {
      payload = verifySignature(token)
    } catch {
      return null
    }
    const session = sessionFrom(payload)
    if (!session) return null
    if (await options.revocations?.isRevoked(session.sessionId)) return null
    return session
  }
}
