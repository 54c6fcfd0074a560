import { createApiClient } from '@finchat/protocol/client'

const PASSWORD = 'bench-password-1'
const CONCURRENCY = 20

/**
 * Users registered and logged in through the target's REST API, made once and handed out
 * again: modes that need more clients than an earlier one add only the difference.
 */
export function createRestUsers(httpUrl: string, prefix = 'bench') {
  const api = createApiClient(httpUrl)
  const tokens: string[] = []
  return async (count: number): Promise<string[]> => {
    while (tokens.length < count) {
      const from = tokens.length
      const batch = await Promise.all(
        Array.from({ length: Math.min(CONCURRENCY, count - from) }, async (_, k) => {
          const username = `${prefix}${from + k}`
          await api.register({ username, password: PASSWORD }).catch(() => {})
          return api.login({ username, password: PASSWORD })
        }),
      )
      tokens.push(...batch)
    }
    return tokens.slice(0, count)
  }
}
