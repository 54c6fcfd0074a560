import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
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
 * A Redis server of the test's own (keeping nothing on disk), so that it can be stopped and
 * started again without touching the one other tests use.
 */
export async function startRedisServer(t: Test) {
  const port = await freePort()
  let child: ChildProcess | undefined

  async function start() {
    const started = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
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
  t.teardown(() => stop())
  return { url: `redis://127.0.0.1:${port}`, port, start, stop }
}
