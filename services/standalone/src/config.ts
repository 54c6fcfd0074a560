import { type AuthConfig, AuthConfigSchema } from '@finchat/auth'
import { loadBotConfig } from '@finchat/bot'
import { ChatConfigSchema } from '@finchat/chat'
import {
  DEFAULT_WEB_ROOT,
  loadConfig,
  parseTrustProxy,
  resolveDataDir,
  serverConfigFields,
  storageConfigFields,
  type TrustProxy,
} from '@finchat/kit'
import { type Static, Type } from '@sinclair/typebox'

export const StandaloneConfigSchema = Type.Object({
  ...serverConfigFields(8000),
  /** Loopback by default: a demo on a laptop should not be reachable from the network. */
  HOST: Type.String({ default: '127.0.0.1' }),
  /** Quiet by default, so that the banner is what the user reads. */
  LOG_LEVEL: Type.String({ default: 'warn' }),
  ...storageConfigFields,
  /** The web UI's build output. */
  WEB_ROOT: Type.String({ default: DEFAULT_WEB_ROOT }),
  /** Rooms created on the first start (comma-separated); empty for none. */
  SEED_ROOMS: Type.String({ default: 'friends,family,investments' }),
  FINBOT_ENABLED: Type.Boolean({ default: true }),
  /** The bot's account, created (or given this password) at each start. */
  FINBOT_USERNAME: Type.String({ default: 'finbot' }),
  /** Default: generated once and kept in DATA_DIR/finbot-password. */
  FINBOT_PASSWORD: Type.Optional(Type.String({ minLength: 8 })),
})

export type StandaloneConfig = Static<typeof StandaloneConfigSchema> & {
  seedRooms: string[]
  /** TRUST_PROXY, parsed (and refused at boot when it is no valid setting). */
  trustProxy: TrustProxy
  auth: AuthConfig
  chat: Static<typeof ChatConfigSchema> & { INSTANCE_ID: string }
}

/**
 * The standalone process reads its own settings and those of every service it runs, from one
 * environment and with the services' own schemas, so a bad value fails at once, named.
 */
export function loadStandaloneConfig(env: NodeJS.ProcessEnv = process.env): StandaloneConfig {
  const config = loadConfig(StandaloneConfigSchema, env)
  const auth = loadConfig(AuthConfigSchema, env)
  const chat = loadConfig(ChatConfigSchema, env)
  // The bot's settings are checked now; its account and address are only known once running.
  loadBotConfig({ ...env, FINBOT_USERNAME: 'check', FINBOT_PASSWORD: 'check', FINBOT_HOST: '' })
  const dataDir = resolveDataDir(config.DATA_DIR, env)
  const seedRooms = config.SEED_ROOMS.split(/[\s,]+/).filter(Boolean)
  const trustProxy = parseTrustProxy(auth.TRUST_PROXY)
  return {
    ...config,
    DATA_DIR: dataDir,
    seedRooms,
    trustProxy,
    auth: { ...auth, DATA_DIR: dataDir, trustProxy },
    chat: { ...chat, DATA_DIR: dataDir, INSTANCE_ID: chat.INSTANCE_ID ?? 'standalone' },
  }
}
