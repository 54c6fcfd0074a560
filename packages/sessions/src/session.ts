/** What a verified token says about its bearer. */
export interface Session {
  userId: number
  username: string
  isAdmin: boolean
  sessionId: string
  /** seconds since the epoch */
  expiresAt: number
}

/** The JWT payload auth signs: short names, nothing secret. */
export interface SessionClaims {
  sub: string
  name: string
  adm: boolean
  sid: string
}

export const TOKEN_ALGORITHM = 'EdDSA'
