import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServiceProcess } from '@finchat/testing'
import { sleep } from '../fanout.js'
import { collectGarbage, INSPECT_ARG, inspectorUrlIn } from '../inspector.js'
import { rssMiB } from '../process-stats.js'
import { BENCH_ROOMS, SERVER_LIMITS } from './bench-rooms.js'
import type { BenchTarget } from './bench-target.js'
import { builtService } from './built-service.js'
import { createRestUsers } from './rest-users.js'

/** How long the started target is left alone before its memory at rest is read. */
const SETTLE_AFTER_START_MS = 5000

/** `pnpm start` as a benchmark target: its build, PGlite and the in-process bus, no bot. */
export async function startStandalone(nodeArgs: string[] = []): Promise<BenchTarget> {
  const dataDir = await mkdtemp(join(tmpdir(), 'finchat-bench-'))
  const server = await startServiceProcess(
    'standalone',
    builtService('standalone'),
    {
      DATA_DIR: dataDir,
      FINBOT_ENABLED: 'false',
      SEED_ROOMS: BENCH_ROOMS.join(','),
      ...SERVER_LIMITS,
    },
    { nodeArgs: [...nodeArgs, INSPECT_ARG] },
  )
  const pid = server.process.pid as number
  // Its PGlite runs in a child process of its own, the one holding DATA_DIR: part of its cost.
  const lock = JSON.parse(await readFile(join(dataDir, 'pglite.lock'), 'utf8')) as { pid: number }
  const inspectorUrl = inspectorUrlIn(server.logs) as string
  // What `pnpm start` holds at rest: its start's garbage collected, which V8 does on its own
  // within half a minute of an idle start (PGlite's process has no inspector to ask).
  await sleep(SETTLE_AFTER_START_MS)
  await collectGarbage(inspectorUrl).catch(async (error: unknown) => {
    await server.stop()
    throw error
  })
  await sleep(500)
  const idleRssAfterStart = { standalone: rssMiB(pid), pglite: rssMiB(lock.pid) }
  return {
    name: 'standalone (pnpm start)',
    wsUrls: [`${server.url.replace('http', 'ws')}/ws/chat`],
    serverPids: [pid, lock.pid],
    cpuProcesses: () => [
      { name: 'standalone', pid },
      { name: 'pglite', pid: lock.pid },
    ],
    collectGarbage: () => collectGarbage(inspectorUrl),
    idleRssAfterStart,
    tokens: createRestUsers(server.url),
    async stop() {
      await server.stop()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}
