import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'

// `pnpm start` and `pnpm admin` as a user runs them from a terminal, for the stories that need
// the real commands (the package scripts, the build check, the database server's process).

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url))
export const PASSWORD = 'correct-horse-battery'

export interface Running {
  child: ChildProcess
  url: string
  output: () => string
}

/** Embedded defaults, whatever the test run itself uses; and none of the runner's loaders. */
function userEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const childEnv = { ...process.env, ...env }
  delete childEnv.DATABASE_URL
  delete childEnv.REDIS_URL
  delete childEnv.NODE_OPTIONS
  return childEnv
}

/** A fresh DATA_DIR, removed when the test ends. */
export async function freshDataDir(t: Test): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), 'finchat-start-'))
  // pnpm may exit before the node process under it has closed PGlite's files: retry a while.
  t.teardown(() => rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 }))
  return dataDir
}

/**
 * Runs `pnpm start` in its own process group; resolves once its output matches `ready` (by
 * default the banner naming the URL, which `url` then is).
 */
export async function pnpmStart(
  env: NodeJS.ProcessEnv,
  ready = /running at (http:\/\/\S+)/,
): Promise<Running> {
  const child = spawn('pnpm', ['start'], {
    cwd: REPO_ROOT,
    env: userEnv(env),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const url = new Promise<string>((resolve, reject) => {
    const take = (chunk: Buffer) => {
      output += chunk
      const match = ready.exec(output)
      if (match) resolve(match[1] ?? '')
    }
    child.stdout?.on('data', take)
    child.stderr?.on('data', take)
    child.once('exit', () =>
      reject(new Error(`pnpm start exited before it was running:\n${output}`)),
    )
  })
  return { child, url: await url, output: () => output }
}

/** SIGTERM to the whole group (pnpm and node), as Ctrl-C does. */
export async function stop(running: Running): Promise<void> {
  const exited = once(running.child, 'exit')
  process.kill(-(running.child.pid as number), 'SIGTERM')
  await exited
}

/** `pnpm admin …` on the same DATA_DIR, as a user runs it from another terminal. */
export async function pnpmAdmin(
  dataDir: string,
  ...args: string[]
): Promise<{ code: number; output: string }> {
  const child = spawn('pnpm', ['--silent', 'admin', ...args], {
    cwd: REPO_ROOT,
    env: userEnv({ DATA_DIR: dataDir }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk))
  child.stderr.on('data', (chunk) => (output += chunk))
  const [code] = await once(child, 'exit')
  return { code: code as number, output }
}

/** The database server's process (the one holding DATA_DIR) and the standalone above it. */
export async function processesOf(
  dataDir: string,
): Promise<{ server: number; standalone: number }> {
  const lock = JSON.parse(await readFile(join(dataDir, 'pglite.lock'), 'utf8')) as { pid: number }
  const ps = spawn('ps', ['-o', 'ppid=', '-p', String(lock.pid)], {
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  let out = ''
  ps.stdout.on('data', (chunk) => (out += chunk))
  await once(ps, 'exit')
  return { server: lock.pid, standalone: Number(out.trim()) }
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Until the process is gone: a server orphaned by its standalone's death must not stay. */
export async function gone(pid: number) {
  for (let waited = 0; isAlive(pid); waited += 100) {
    if (waited > 30_000) throw new Error(`process ${pid} is still running`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
