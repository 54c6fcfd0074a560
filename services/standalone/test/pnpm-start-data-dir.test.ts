import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createApiClient } from '@finchat/protocol/client'
import t from 'tap'
import { freshDataDir, gone, PASSWORD, pnpmStart, processesOf, stop } from './helpers/pnpm-start.js'

// One DATA_DIR, one `pnpm start`: a second start is refused and names the directory, and no way
// of dying (the standalone, its database server, both at once) leaves it unusable or its data lost.
// (Split from pnpm-start.test.ts, each `pnpm start` being seconds, to stay well inside the
// per-file time limit on a loaded CI machine.)

const dataDir = await freshDataDir(t)
const env = { DATA_DIR: dataDir, PORT: '0' }

t.test(
  'a second start on the same DATA_DIR stops at once, naming it; the first carries on',
  async (t) => {
    const first = await pnpmStart(env)
    t.teardown(() => stop(first))
    const second = await pnpmStart(env).then(
      () => 'it started',
      (error: Error) => error.message,
    )
    t.match(second, /The database in \S+ is in use by process \d+ \(another `pnpm start`\?\)/)
    t.ok(second.includes(join(dataDir, 'pglite')), 'the message names the directory')
    const api = createApiClient(first.url)
    await api.register({ username: 'alice', password: PASSWORD })
    t.ok(await api.login({ username: 'alice', password: PASSWORD }), 'the first one still answers')
  },
)

t.test('a killed start leaves nothing that keeps the next from starting', async (t) => {
  const crashed = await pnpmStart(env)
  const { server, standalone } = await processesOf(dataDir)
  // The standalone alone dies (a crash): its database server goes with it, lock and all.
  const exited = once(crashed.child, 'exit')
  process.kill(standalone, 'SIGKILL')
  await gone(server)
  await exited
  // Its database server dies alone: the standalone stops too, saying why, not serving errors.
  const orphaned = await pnpmStart(env)
  const orphanedExit = once(orphaned.child, 'exit')
  process.kill((await processesOf(dataDir)).server, 'SIGKILL')
  await orphanedExit
  t.match(orphaned.output(), /the embedded database stopped/)
  // Both die at once (SIGKILL to the group): the lock stays behind, naming a dead process.
  const killed = await pnpmStart(env)
  const killedExit = once(killed.child, 'exit')
  const killedServer = (await processesOf(dataDir)).server
  process.kill(-(killed.child.pid as number), 'SIGKILL')
  await killedExit
  await gone(killedServer)
  t.ok(await readFile(join(dataDir, 'pglite.lock'), 'utf8'), 'a stale lock file is left')

  const running = await pnpmStart(env)
  t.teardown(() => stop(running))
  const api = createApiClient(running.url)
  t.ok(await api.login({ username: 'alice', password: PASSWORD }), 'and the data is all there')
})
