import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))

export interface ServiceProcess {
  /** Where it listens, from its "Server listening at" log line. */
  url: string
  process: ChildProcess
  /** Its latest log lines, for failure messages. */
  logs: string[]
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Sends `signal` (SIGTERM by default) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/**
 * Starts a service's `main.ts` (through tsx) or its built `main.js` (plainly, as its image runs
 * it) as its own process, configured by `env` alone (on top of PATH), and resolves once it
 * listens. The caller stops it; `spawnService` does so for a test.
 */
export async function startServiceProcess(
  name: string,
  script: string,
  env: NodeJS.ProcessEnv,
  options: { timeoutMs?: number; nodeArgs?: string[] } = {},
): Promise<ServiceProcess> {
  const timeoutMs = options.timeoutMs ?? 30_000
  const fromSource = script.endsWith('.ts') ? ['--conditions=@finchat/source', '--import=tsx'] : []
  const args = [...(options.nodeArgs ?? []), ...fromSource, script]
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }))
  const logs: string[] = []
  const remember = (line: string) => {
    logs.push(line)
    if (logs.length > 100) logs.shift()
  }
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    return exited
  }
  if (child.stderr) createInterface({ input: child.stderr }).on('line', remember)
  const listening = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      remember(line)
      const message = parseMessage(line)
      if (message?.startsWith('Server listening at')) {
        resolve(message.slice('Server listening at'.length).trim())
      }
    })
    void exited.then(({ code, signal }) =>
      reject(new Error(`${name} exited (${code ?? signal}):\n${logs.join('\n')}`)),
    )
  })
  let timer: NodeJS.Timeout | undefined
  const url = await Promise.race([
    listening,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${name} not listening after ${timeoutMs} ms:\n${logs.join('\n')}`)),
        timeoutMs,
      )
    }),
  ])
    .catch(async (error) => {
      await stop('SIGKILL')
      throw error
    })
    .finally(() => clearTimeout(timer))
  return { url, process: child, logs, exited, stop }
}

/**
 * A service process for a test: killed at teardown if still running, its log printed when the
 * test failed.
 */
export async function spawnService(
  t: Test,
  name: string,
  script: string,
  env: NodeJS.ProcessEnv,
): Promise<ServiceProcess> {
  const service = await startServiceProcess(name, script, env)
  t.teardown(async () => {
    if (!t.passing()) t.comment(`${name} log:\n${service.logs.join('\n')}`)
    await service.stop('SIGKILL')
  })
  return service
}

function parseMessage(line: string): string | undefined {
  try {
    const entry = JSON.parse(line) as { msg?: unknown }
    return typeof entry.msg === 'string' ? entry.msg : undefined
  } catch {
    return undefined
  }
}
