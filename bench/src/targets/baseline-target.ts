import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import type { BenchTarget } from './bench-target.js'

/** The in-memory `ws` server of `baseline-server.ts`, in a process of its own. */
export async function startBaseline(): Promise<BenchTarget> {
  const child = spawn(
    process.execPath,
    ['--import=tsx', new URL('../baseline-main.ts', import.meta.url).pathname],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const [wsUrl] = (await once(createInterface({ input: child.stdout }), 'line')) as [string]
  const pid = child.pid as number
  return {
    name: 'baseline (ws, in memory)',
    wsUrls: [wsUrl],
    serverPids: [pid],
    cpuProcesses: () => [{ name: 'baseline', pid }],
    async tokens(count) {
      return Array.from({ length: count }, (_, i) => `user${i}`)
    },
    async stop() {
      child.kill('SIGTERM')
      await once(child, 'exit')
    },
  }
}
