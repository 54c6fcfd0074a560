import { randomUUID } from 'node:crypto'
import type { Session, TokenIssuer } from '@finchat/sessions'
import type { AuthDb, User } from '../db/schema.js'
import type { LoginLimiter } from '../limits/login-limiter.js'
import type { PasswordHasher } from '../users/password-hasher.js'
import { createUsersRepository } from '../users/users.repository.js'
import { announceRevoked } from './session-revocations.js'
import { createSessionsRepository } from './sessions.repository.js'

export interface SessionServiceDeps {
  db: AuthDb
  passwords: PasswordHasher
  loginLimiter: LoginLimiter
  /**
   * Carries out what revocations committed (the relay's flush): awaited, so that a logout that
   * answers has normally taken effect everywhere; what it cannot deliver now follows later.
   */
  announce: () => Promise<unknown>
  /** Signs the token of a session just opened (auth's app passes `app.issueSessionToken`). */
  issue: TokenIssuer
  tokenTtlSeconds: number
  clock?: () => Date
}

export type OpenSessionResult =
  | { ok: true; user: User; token: string }
  | { ok: false; reason: 'mismatch' }
  | { ok: false; reason: 'limited'; retryAfterSeconds: number }

export type SessionService = ReturnType<typeof createSessionService>

/**
 * The use cases that write the sessions table and announce `session.revoked` (through auth's
 * outbox, in the same transaction: a revocation is never half done). Created
 * synchronously: the decoy hash starts at once and is awaited by the first login that needs it.
 */
export function createSessionService(deps: SessionServiceDeps) {
  const { passwords, loginLimiter, announce, issue, tokenTtlSeconds } = deps
  const clock = deps.clock ?? (() => new Date())
  const users = createUsersRepository(deps.db)
  const sessions = createSessionsRepository(deps.db)
  /** Verified against when the username is unknown, to keep timing uniform. */
  const decoyHash = passwords.hash('decoy password, never valid')
  // A failure surfaces at the login that awaits it, not as an unhandled rejection.
  decoyHash.catch(() => {})

  return {
    /**
     * Takes an attempt from the failure budgets, checks the password, then opens a session (and
     * gives the attempt back).
     */
    async open(credentials: {
      username: string
      password: string
      ip: string
    }): Promise<OpenSessionResult> {
      const { username, password, ip } = credentials
      const attempt = await loginLimiter.reserve(username, ip)
      if (!attempt.granted) {
        return { ok: false, reason: 'limited', retryAfterSeconds: attempt.retryAfter }
      }
      let user: User | undefined
      let valid: boolean
      try {
        user = await users.findByUsername(username)
        // A missing user still costs one hash, so response time does not reveal which names exist.
        valid = user
          ? await passwords.verify(password, user.password_hash)
          : await passwords.verify(password, await decoyHash).then(() => false)
      } catch (error) {
        // Not a wrong password: the attempt is given back.
        await attempt.cancel().catch(() => {})
        throw error
      }
      // A wrong password keeps the attempt it reserved: that is its failure, counted.
      if (!user || !valid) return { ok: false, reason: 'mismatch' }
      await attempt.succeeded()
      const sessionId = randomUUID()
      await sessions.insert({
        id: sessionId,
        user_id: user.id,
        expires_at: new Date(clock().getTime() + tokenTtlSeconds * 1000),
        revoked_at: null,
      })
      const token = issue({
        userId: user.id,
        username: user.username,
        isAdmin: user.is_admin,
        isBot: user.is_bot,
        sessionId,
      })
      return { ok: true, user, token }
    },

    /**
     * Revokes the session everywhere: its row and the announcement commit together, then the
     * shared list and open chat sockets hear of it (at once, or when Redis is back).
     */
    async close(session: Session): Promise<void> {
      const now = clock()
      await deps.db.transaction().execute(async (trx) => {
        if (!(await sessions.revoke(session.sessionId, now, trx))) return
        await announceRevoked(
          trx,
          { id: session.userId, username: session.username },
          [{ id: session.sessionId, expires_at: new Date(session.expiresAt * 1000) }],
          now,
        )
      })
      await announce()
    },

    /** "Log out everywhere": every open session of the user, this one included. */
    async closeAll(user: { id: number; username: string }): Promise<number> {
      const now = clock()
      const revoked = await deps.db.transaction().execute(async (trx) => {
        const rows = await sessions.revokeAllOf(user.id, now, trx)
        await announceRevoked(trx, user, rows, now)
        return rows
      })
      await announce()
      return revoked.length
    },

    /** Auth's own table is the source of truth, even if the shared list lost an entry. */
    isActive(session: Session): Promise<boolean> {
      return sessions.isActive(session.sessionId, clock())
    },
  }
}
