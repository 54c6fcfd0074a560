import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { collectGarbage, INSPECT_ARG, inspectorUrlIn } from '../inspector.js'
import type { BenchTarget } from './bench-target.js'

/** The in-memory `ws` server of `baseline-server.ts`, in a process of its own. */
export async function startBaseline(): Promise<BenchTarget> {
  const child = spawn(
    process.execPath,
    [INSPECT_ARG, '--import=tsx', new URL('../baseline-main.ts', import.meta.url).pathname],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const inspector = new Promise<string>((resolve) => {
    createInterface({ input: child.stderr }).on('line', (line) => {
      const url = inspectorUrlIn([line])
      if (url) resolve(url)
      else if (!line.startsWith('For help, see')) process.stderr.write(`${line}\n`)
    })
  })
  const [wsUrl] = (await once(createInterface({ input: child.stdout }), 'line')) as [string]
  const inspectorUrl = await inspector
  const pid = child.pid as number
  return {
    name: 'baseline (ws, in memory)',
    wsUrls: [wsUrl],
    serverPids: [pid],
    cpuProcesses: () => [{ name: 'baseline', pid }],
    collectGarbage: () => collectGarbage(inspectorUrl),
    async tokens(count) {
      return Array.from({ length: count }, (_, i) => `user${i}`)
    },
    async stop() {
      child.kill('SIGTERM')
      await once(child, 'exit')
    },
  }
}
