import type { Bus } from '@finchat/bus'
import type { Database } from '@finchat/db'
import { createRevocationList, type RevocationList } from '@finchat/sessions'
import type { Redis } from 'ioredis'
import type { ChatOptions } from './app.js'
import type { ChatConfig } from './config.js'
import { chatDb } from './db/migrate.js'
import { createMemoryPresence } from './presence/memory-presence.js'
import { createRedisPresence } from './presence/redis-presence.js'

/** Everything buildChat needs, from the shared infrastructure of the process. */
export function chatOptions(
  config: ChatConfig,
  infra: {
    database: Database
    bus: Bus
    redis?: Redis
    publicKey: string
    /** In-process mode: the one list auth writes to. */
    revocations?: RevocationList
    logger?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void }
  },
): ChatOptions {
  const prefix = config.REDIS_PREFIX
  return {
    db: chatDb(infra.database.db),
    // PGlite is one session, and a statement costs its one thread ~0.6 ms whatever its rows:
    // no room locks (they would order nothing), and at most one insert every 5 ms.
    writer: infra.database.kind === 'pglite' ? { roomLocks: false, batchWindowMs: 10 } : undefined,
    bus: infra.bus,
    publicKey: infra.publicKey,
    revocations: infra.revocations ?? createRevocationList(infra.redis, prefix),
    presence: infra.redis
      ? createRedisPresence({
          redis: infra.redis,
          instanceId: config.INSTANCE_ID,
          prefix,
          heartbeatMs: config.PRESENCE_HEARTBEAT_MS,
          deadAfterMs: config.PRESENCE_DEAD_AFTER_MS,
          logger: infra.logger,
        })
      : createMemoryPresence(config.INSTANCE_ID),
    cookieName: config.SESSION_COOKIE,
    allowedOrigins: config.ALLOWED_ORIGINS.split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    limits: {
      maxFrameBytes: config.CHAT_MAX_FRAME_BYTES,
      rateLimit: { burst: config.CHAT_RATE_BURST, perSecond: config.CHAT_RATE_PER_SECOND },
      maxBufferedBytes: config.CHAT_MAX_BUFFERED_BYTES,
      pingIntervalMs: config.CHAT_PING_INTERVAL_MS,
      handshakeTimeoutMs: config.CHAT_HANDSHAKE_TIMEOUT_MS,
      maxEarlyFrames: config.CHAT_MAX_EARLY_FRAMES,
      maxEarlyBytes: config.CHAT_MAX_EARLY_BYTES,
    },
  }
}
