import {
  ConfigError,
  DEFAULT_WEB_ROOT,
  loadConfig,
  parseTrustProxy,
  serverConfigFields,
  type TrustProxy,
  trustProxyField,
} from '@finchat/kit'
import { type Static, Type } from '@sinclair/typebox'

export const GatewayConfigSchema = Type.Object({
  ...serverConfigFields(8000),
  /** The auth service. */
  AUTH_URL: Type.String({ pattern: '^https?://', default: 'http://localhost:8001' }),
  /** Comma-separated chat instances; a host name stands for every address it resolves to. */
  CHAT_URLS: Type.String({ default: 'http://localhost:8002' }),
  CHAT_RESOLVE_INTERVAL_MS: Type.Integer({ minimum: 100, default: 5000 }),
  CHAT_CHECK_INTERVAL_MS: Type.Integer({ minimum: 100, default: 1000 }),
  /** How long an upstream may take to answer an HTTP request before the client gets a 504. */
  UPSTREAM_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000 }),
  WEB_ROOT: Type.String({ default: DEFAULT_WEB_ROOT }),
  /** Behind the edge: whose X-Forwarded-For gives the client's address. */
  TRUST_PROXY: trustProxyField,
})

export type GatewayConfig = Static<typeof GatewayConfigSchema> & {
  chatUrls: string[]
  trustProxy: TrustProxy
}

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const config = loadConfig(GatewayConfigSchema, env)
  const chatUrls = config.CHAT_URLS.split(',')
    .map((url) => url.trim())
    .filter(Boolean)
  const bad = chatUrls.filter((url) => !/^https?:\/\/[^/]+\/?$/.test(url))
  if (chatUrls.length === 0 || bad.length > 0) {
    throw new ConfigError(
      `invalid configuration: CHAT_URLS must list http://host:port addresses (${config.CHAT_URLS})`,
    )
  }
  return { ...config, chatUrls, trustProxy: parseTrustProxy(config.TRUST_PROXY) }
}
