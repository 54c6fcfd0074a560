export { buildStandalone, type StandaloneOptions } from './app.js'
export { loadStandaloneConfig, type StandaloneConfig, StandaloneConfigSchema } from './config.js'
