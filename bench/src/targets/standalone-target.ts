import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createApiClient } from '@finchat/protocol/client'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/**
 * `pnpm start` as a benchmark target: one process, PGlite and the in-process bus, no bot.
 * Resolves with its websocket URL, its pid, and a way to make logged-in users.
 */
export async function startStandalone() {
  const dataDir = await mkdtemp(join(tmpdir(), 'finchat-bench-'))
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    DATA_DIR: dataDir,
    PORT: '0',
    LOG_LEVEL: 'info',
    FINBOT_ENABLED: 'false',
    SEED_ROOMS: Array.from({ length: 100 }, (_, i) => `room-${i}`).join(','),
    // Registering hundreds of users is setup, not what is measured.
    PASSWORD_HASH_COST: '10',
    LOGIN_MAX_FAILURES_PER_IP: '1000000',
  }
  const child = spawn(
    process.execPath,
    ['--conditions=@finchat/source', '--import=tsx', 'services/standalone/src/main.ts'],
    { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line)
      if (match) resolve(match[1] as string)
    })
    child.once('exit', (code) => reject(new Error(`standalone exited (${code})`)))
  })
  const api = createApiClient(url)
  return {
    pid: child.pid as number,
    wsUrl: `${url.replace('http', 'ws')}/ws/chat`,
    /** Registered, logged-in users, their tokens in order. */
    async tokens(count: number, prefix = 'bench'): Promise<string[]> {
      const tokens: string[] = []
      for (let i = 0; i < count; i += 20) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(20, count - i) }, async (_, k) => {
            const username = `${prefix}${i + k}`
            const password = 'bench-password-1'
            await api.register({ username, password }).catch(() => {})
            return api.login({ username, password })
          }),
        )
        tokens.push(...batch)
      }
      return tokens
    },
    async stop() {
      child.kill('SIGTERM')
      await new Promise((resolve) => child.once('exit', resolve))
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}
