export { ConfigError, exitOnConfigError, loadConfig, resolveDataDir } from './config.js'
export {
  BusyError,
  errorHandlerPlugin,
  type FieldErrors,
  fieldErrorsFromValidation,
} from './error-handler.plugin.js'
export { healthPlugin, type Readiness, type ReadinessCheck } from './health.plugin.js'
export { loggerOptions, withoutSecrets } from './logger.js'
export { metricsPlugin } from './metrics.plugin.js'
export {
  type ApiDocsOptions,
  apiDocsPlugin,
  type OpenApiDocument,
  openApiDocument,
  openApiPlugin,
} from './openapi.plugin.js'
export {
  type ListenConfig,
  runService,
  type ServiceDefinition,
  type Started,
} from './run-service.js'
export { createServer, type ServerOptions } from './server.js'
export {
  databaseTimeoutFields,
  nodeEnvField,
  portField,
  requireOutsideDevelopment,
  serverConfigFields,
  serviceConfigFields,
  storageConfigFields,
  trustProxyField,
} from './service-config.js'
export { type ListenOptions, listenWithGrace } from './shutdown.js'
export { migrateFromEnv, openStorage, type Storage, type StorageConfig } from './storage.js'
export { clientAddress, parseTrustProxy, type TrustProxy } from './trust-proxy.js'
export { DEFAULT_WEB_ROOT, type WebUiOptions, webUiPlugin } from './web-ui.plugin.js'
