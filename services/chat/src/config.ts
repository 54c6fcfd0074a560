import { hostname } from 'node:os'
import {
  ConfigError,
  loadConfig,
  requireOutsideDevelopment,
  resolveDataDir,
  serviceConfigFields,
} from '@finchat/kit'
import { sessionCookieField } from '@finchat/sessions'
import { type Static, Type } from '@sinclair/typebox'

export const ChatConfigSchema = Type.Object({
  ...serviceConfigFields(8002),
  /** PEM public key matching auth's private key; required outside development. */
  JWT_PUBLIC_KEY: Type.Optional(Type.String({ minLength: 40 })),
  /** Names this instance in presence records; unique per running instance. */
  INSTANCE_ID: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,100}$' })),
  SESSION_COOKIE: sessionCookieField,
  /** Comma-separated origins whose pages may connect with the session cookie; empty: same origin. */
  ALLOWED_ORIGINS: Type.String({ default: '' }),
  CHAT_MAX_FRAME_BYTES: Type.Integer({ minimum: 1024, default: 64 * 1024 }),
  CHAT_RATE_BURST: Type.Integer({ minimum: 1, default: 100 }),
  CHAT_RATE_PER_SECOND: Type.Number({ exclusiveMinimum: 0, default: 20 }),
  CHAT_MAX_BUFFERED_BYTES: Type.Integer({ minimum: 1024, default: 1024 * 1024 }),
  CHAT_PING_INTERVAL_MS: Type.Integer({ minimum: 100, default: 30_000 }),
  CHAT_HANDSHAKE_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000 }),
  CHAT_MAX_EARLY_FRAMES: Type.Integer({ minimum: 1, default: 100 }),
  CHAT_MAX_EARLY_BYTES: Type.Integer({ minimum: 1024, default: 1024 * 1024 }),
  PRESENCE_HEARTBEAT_MS: Type.Integer({ minimum: 50, default: 1000 }),
  PRESENCE_DEAD_AFTER_MS: Type.Integer({ minimum: 200, default: 4000 }),
})

export type ChatConfig = Static<typeof ChatConfigSchema> & { INSTANCE_ID: string }

export function loadChatConfig(env: NodeJS.ProcessEnv = process.env): ChatConfig {
  const config = loadConfig(ChatConfigSchema, env)
  requireOutsideDevelopment(config, ['JWT_PUBLIC_KEY'])
  if (config.PRESENCE_DEAD_AFTER_MS < 2 * config.PRESENCE_HEARTBEAT_MS) {
    throw new ConfigError(
      'invalid configuration: PRESENCE_DEAD_AFTER_MS must be at least twice PRESENCE_HEARTBEAT_MS',
    )
  }
  return {
    ...config,
    DATA_DIR: resolveDataDir(config.DATA_DIR, env),
    INSTANCE_ID: config.INSTANCE_ID ?? `${hostname()}-${process.pid}`,
  }
}
