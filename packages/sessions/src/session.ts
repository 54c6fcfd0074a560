import { type Static, Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'

/** What a verified token says about its bearer. */
export interface Session {
  userId: number
  username: string
  isAdmin: boolean
  /** A bot account (marked by an administrator): may send messages with a card. */
  isBot: boolean
  sessionId: string
  /** seconds since the epoch */
  expiresAt: number
}

/** What auth grants when it opens a session: a session without its expiry, which signing adds. */
export type SessionGrant = Omit<Session, 'expiresAt'>

/**
 * The JWT payload: short names, nothing secret. The one description of it: the issuer writes
 * it through `claimsFor` and the verifier reads it through `sessionFrom`, both checked here.
 */
export const SessionClaimsSchema = Type.Object({
  /** The user's id, as a decimal string (JWT's subject is a string). */
  sub: Type.String({ pattern: '^[0-9]{1,15}$' }),
  name: Type.String({ minLength: 1 }),
  adm: Type.Boolean(),
  /**
   * Present (true) only on a bot account's tokens, so everyone else's stay as they were, and a
   * token signed before bots existed still verifies (as no bot).
   */
  bot: Type.Optional(Type.Literal(true)),
  sid: Type.String({ minLength: 1 }),
  /** Added by the signer: seconds since the epoch. */
  exp: Type.Integer(),
})

export type SessionClaims = Static<typeof SessionClaimsSchema>

export const TOKEN_ALGORITHM = 'EdDSA'

/** The web UI's session cookie, unless SESSION_COOKIE names another. */
export const DEFAULT_SESSION_COOKIE = 'finchat_session'

const claimsCheck = TypeCompiler.Compile(SessionClaimsSchema)

export function claimsFor(grant: SessionGrant): Omit<SessionClaims, 'exp'> {
  return {
    sub: String(grant.userId),
    name: grant.username,
    adm: grant.isAdmin,
    ...(grant.isBot && { bot: true as const }),
    sid: grant.sessionId,
  }
}

/** The session a verified payload stands for; null when it is not the payload auth signs. */
export function sessionFrom(payload: unknown): Session | null {
  if (!claimsCheck.Check(payload)) return null
  return {
    userId: Number(payload.sub),
    username: payload.name,
    isAdmin: payload.adm,
    isBot: payload.bot === true,
    sessionId: payload.sid,
    expiresAt: payload.exp,
  }
}

/** SESSION_COOKIE, read by auth (which sets it) and chat (which accepts it on the websocket). */
export const sessionCookieField = Type.String({ default: DEFAULT_SESSION_COOKIE })
