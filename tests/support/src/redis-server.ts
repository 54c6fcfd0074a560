import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'

/** A free TCP port on loopback, as the kernel hands one out. */
export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/**
 * A Redis server of the test's own (keeping nothing on disk unless `persistent`), so that it
 * can be stopped and started again without touching the one other tests use.
 */
export async function startRedisServer(t: Test, options: { persistent?: boolean } = {}) {
  const port = await freePort()
  let child: ChildProcess | undefined
  // Persistent as the compose file runs it (an append-only file, here synced at every write):
  // stopped and started again, it comes back with its data.
  const dir = options.persistent ? await mkdtemp(join(tmpdir(), 'finchat-redis-')) : undefined
  const persistence = dir
    ? ['--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir]
    : ['--save', '', '--appendonly', 'no']

  async function start() {
    const started = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', ...persistence],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    child = started
    let output = ''
    await new Promise<void>((resolve, reject) => {
      started.stdout?.on('data', (chunk) => {
        output += chunk
        if (output.includes('Ready to accept connections')) resolve()
      })
      started.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)))
    })
  }

  async function stop(signal: NodeJS.Signals = 'SIGKILL') {
    const running = child
    child = undefined
    if (!running || running.exitCode !== null) return
    const exited = once(running, 'exit')
    running.kill(signal)
    await exited
  }

  await start()
  t.teardown(async () => {
    await stop()
    if (dir) await rm(dir, { recursive: true, force: true })
  })
  return { url: `redis://127.0.0.1:${port}`, port, start, stop }
}
