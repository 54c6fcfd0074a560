import { execFile } from 'node:child_process'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Test } from 'tap'
import { freePort } from './redis-server.js'

const run = promisify(execFile)

/**
 * A PostgreSQL server of the test's own, in a temporary directory, so that it can be stopped
 * and started again without touching the one other tests use. As root it runs as `postgres`.
 */
export async function startPostgresServer(t: Test) {
  const versions = await readdir('/usr/lib/postgresql')
  const bin = join('/usr/lib/postgresql', versions.sort().at(-1) as string, 'bin')
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'finchat-pg-'))
  const data = join(dir, 'data')
  const asRoot = process.getuid?.() === 0
  const as = (command: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', command, ...args]) : run(command, args)
  if (asRoot) await run('chown', ['postgres:postgres', dir])
  await as(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'])
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`

  async function start() {
    await as(join(bin, 'pg_ctl'), [
      '-D',
      data,
      '-o',
      options,
      '-l',
      join(dir, 'log'),
      '-w',
      'start',
    ])
  }
  async function stop() {
    await as(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {})
  }

  await start()
  t.teardown(async () => {
    await stop()
    await rm(dir, { recursive: true, force: true })
  })
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, start, stop }
}
