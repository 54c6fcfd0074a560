import { loadConfig, resolveDataDir, storageConfigFields } from '@finchat/kit'
import { type Static, Type } from '@sinclair/typebox'

/** The CLI works on the deployment's storage, read from the same variables as the services. */
export const CliConfigSchema = Type.Object({
  ...storageConfigFields,
  PASSWORD_HASH_COST: Type.Integer({ minimum: 10, maximum: 20, default: 15 }),
  /** The bot's account, for `users create-bot`: the bot's own variables. */
  FINBOT_USERNAME: Type.Optional(Type.String({ minLength: 1 })),
  FINBOT_PASSWORD: Type.Optional(Type.String({ minLength: 1 })),
})

export type CliConfig = Static<typeof CliConfigSchema>

export function loadCliConfig(env: NodeJS.ProcessEnv = process.env): CliConfig {
  const config = loadConfig(CliConfigSchema, env)
  return { ...config, DATA_DIR: resolveDataDir(config.DATA_DIR, env) }
}
