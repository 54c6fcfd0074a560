import type { Bus } from '@finchat/bus'
import { createOutboxRelay, writeToOutbox } from '@finchat/db'
import { type SessionRevokedEvent, STREAMS } from '@finchat/protocol'
import type { RevocationList } from '@finchat/sessions'
import type { AuthDb } from '../db/schema.js'
import { createSessionsRepository } from './sessions.repository.js'

/** What auth's outbox carries: a revoked session, for the shared list and for `auth:events`. */
interface AuthAnnouncements {
  'session.revoked': { event: SessionRevokedEvent; expiresAt: number }
}

export interface RevokedSession {
  id: string
  expires_at: Date
}

const seconds = (date: Date) => Math.ceil(date.getTime() / 1000)

/**
 * Announces sessions just revoked, in the transaction that revoked them: the revocation and its
 * announcement commit together, and the relay (`createRevocationRelay`) carries it out when
 * Redis takes it. Needs only the database, so the CLI revokes the same way.
 */
export async function announceRevoked(
  trx: AuthDb,
  user: { id: number; username: string },
  sessions: RevokedSession[],
  now: Date,
): Promise<void> {
  for (const session of sessions) {
    await writeToOutbox<AuthAnnouncements, 'session.revoked'>(trx, 'session.revoked', {
      event: {
        type: 'session.revoked',
        session_id: session.id,
        user_id: user.id,
        username: user.username,
        at: now.getTime(),
      },
      expiresAt: seconds(session.expires_at),
    })
  }
}

export interface RevocationRelayDeps {
  db: AuthDb
  bus: Bus
  revocations: RevocationList
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void }
  clock?: () => Date
  /** How often the outbox and the list's state are looked at. */
  pollMs?: number
}

/**
 * Keeps the shared list of revoked sessions true to auth's sessions table: relays each
 * revocation (the list, then `auth:events`, which closes the sockets opened with it), and loads
 * the list again whenever it lost its entries (Redis restarted empty). Until it is loaded again
 * the list refuses to answer, so no revoked token slips through meanwhile.
 */
export function createRevocationRelay(deps: RevocationRelayDeps) {
  const { db, bus, revocations, log } = deps
  const clock = deps.clock ?? (() => new Date())
  const pollMs = deps.pollMs ?? 1000
  const sessions = createSessionsRepository(db)
  const outbox = createOutboxRelay<AuthAnnouncements>({
    db,
    log,
    pollMs,
    async deliver(_topic, { event, expiresAt }) {
      await revocations.revoke(event.session_id, expiresAt)
      await bus.append(STREAMS.authEvents, event)
    },
  })
  let timer: NodeJS.Timeout | undefined
  let loading: Promise<void> | undefined

  async function load() {
    if (await revocations.isLoaded()) return
    const inForce = await sessions.revokedInForce(clock())
    await revocations.load(
      inForce.map((s) => ({ sessionId: s.id, expiresAt: seconds(s.expires_at) })),
    )
    log.info({ sessions: inForce.length }, 'loaded the list of revoked sessions')
  }

  /** Loads the list if it needs it; never throws (the next poll tries again). */
  function ensureLoaded(): Promise<void> {
    loading ??= load()
      .catch((err) => log.warn({ err }, 'could not load the list of revoked sessions'))
      .finally(() => {
        loading = undefined
      })
    return loading
  }

  return {
    /** Delivers what waits, at once (after a logout commits); true when nothing is left. */
    flush: outbox.flush,
    /** Loads the list (once awaited, so a started auth answers), then keeps list and outbox. */
    async start() {
      await ensureLoaded()
      outbox.start()
      timer = setInterval(() => void ensureLoaded(), pollMs)
      timer.unref()
    },
    async stop() {
      clearInterval(timer)
      await Promise.all([outbox.stop(), loading])
    },
  }
}

export type RevocationRelay = ReturnType<typeof createRevocationRelay>
