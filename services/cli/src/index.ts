// For the deployment's checks (infra/test): the variables the CLI reads.
export { type CliConfig, CliConfigSchema, loadCliConfig } from './config.js'
