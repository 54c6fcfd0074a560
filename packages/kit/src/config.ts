import { resolve } from 'node:path'
import type { Static, TSchema } from '@sinclair/typebox'
import envSchema from 'env-schema'

/** What `.env.sample` writes where a secret must go; outside development it is refused. */
export const PLACEHOLDER = 'CHANGE_ME'

export class ConfigError extends Error {
  override name = 'ConfigError'
}

interface AjvIssue {
  instancePath?: string
  message?: string
  params?: { missingProperty?: string }
}

/**
 * Reads and validates settings from the environment. A bad or missing variable raises a
 * ConfigError whose message names every offending variable, so the operator fixes all at once.
 */
export function loadConfig<T extends TSchema>(
  schema: T,
  env: NodeJS.ProcessEnv = process.env,
): Static<T> {
  // Empty strings mean "unset": compose files and .env templates often leave `FOO=` lines.
  const data = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''))
  if (env.NODE_ENV !== 'development') {
    const names = Object.keys((schema as { properties?: object }).properties ?? {})
    const placeholders = names.filter((name) => env[name]?.includes(PLACEHOLDER))
    if (placeholders.length > 0) {
      throw new ConfigError(
        `invalid configuration: ${placeholders.join(', ')} still ${placeholders.length > 1 ? 'hold' : 'holds'} the ${PLACEHOLDER} placeholder of .env.sample`,
      )
    }
  }
  try {
    return envSchema<Static<T>>({ schema, data, env: false, dotenv: false })
  } catch (error) {
    const issues = (error as { errors?: AjvIssue[] }).errors
    if (!issues) throw error
    const lines = issues.map((issue) => {
      const name = issue.params?.missingProperty ?? issue.instancePath?.replace(/^\//, '') ?? '?'
      const value = issue.params?.missingProperty ? 'is required' : (issue.message ?? 'is invalid')
      return `${name} ${value}`
    })
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`)
  }
}

/** Prints a configuration error as one line and ends the process, as operators expect at boot. */
export function exitOnConfigError(error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`)
    process.exit(78)
  }
  throw error
}

/**
 * A relative DATA_DIR is taken from where the user ran the command: `pnpm --filter` runs
 * scripts inside the package folder, but `.data` means the folder the user stands in.
 */
export function resolveDataDir(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.INIT_CWD ?? process.cwd(), dataDir)
}
