export { buildGateway, type GatewayOptions } from './app.js'
export { type GatewayConfig, GatewayConfigSchema, loadGatewayConfig } from './config.js'
export {
  createUpstreamPool,
  type Upstream,
  type UpstreamPool,
  type UpstreamPoolOptions,
} from './upstreams/upstream-pool.js'
