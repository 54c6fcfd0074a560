import { createVerifier } from 'fast-jwt'
import type { RevocationList } from './revocation-list.js'
import { type Session, type SessionClaims, TOKEN_ALGORITHM } from './session.js'

export type TokenVerifier = (token: string) => Promise<Session | null>

/**
 * Verifies a token locally (signature, expiry, revocation list): no call to auth per request
 * or per websocket. Answers null for any token that must not authenticate; a revocation list
 * that cannot be reached throws, so callers fail closed.
 */
export function createTokenVerifier(options: {
  publicKey: string
  revocations: RevocationList
}): TokenVerifier {
  const verifySignature = createVerifier({
    key: options.publicKey,
    algorithms: [TOKEN_ALGORITHM],
    cache: 1000,
  })
  return async (token) => {
    let claims: SessionClaims & { exp: number }
    try {
      claims = verifySignature(token) as SessionClaims & { exp: number }
    } catch {
      return null
    }
    const userId = Number(claims.sub)
    if (
      !Number.isSafeInteger(userId) ||
      typeof claims.sid !== 'string' ||
      typeof claims.name !== 'string' ||
      typeof claims.exp !== 'number'
    ) {
      return null
    }
    if (await options.revocations.isRevoked(claims.sid)) return null
    return {
      userId,
      username: claims.name,
      isAdmin: claims.adm === true,
      sessionId: claims.sid,
      expiresAt: claims.exp,
    }
  }
}
