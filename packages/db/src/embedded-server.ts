import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'
import { DataDirInUseError, lockDataDir } from './data-dir-lock.js'

/**
 * PGlite served over the PostgreSQL wire protocol from a process of its own: its statements run
 * on that process's thread, not between the websockets of the one that uses it, and clients use
 * the `pg` driver and statements of production. PGlite is one session: every client shares it
 * (its settings, its session advisory locks), statements are queued one at a time and a
 * transaction has it to itself until it ends.
 */
export interface EmbeddedServer {
  /** A connection string for `createDatabase({ url, embedded: true })`. */
  url: string
  /** Stops the server (after the last client closed) and lets go of the data directory. */
  close(): Promise<void>
}

/** At most this many clients at once: the service's pool, `pnpm admin`, `pnpm migrate`. */
const MAX_CONNECTIONS = 8

// sun_path holds 108 bytes on Linux, 104 on macOS: a longer one is served on a local port.
const MAX_SOCKET_PATH = 100

/**
 * PostgreSQL's default 128 MB of shared buffers is WebAssembly memory PGlite keeps for good: a
 * chat's working set (recent messages, the rooms) fits in 16 MB with the OS's file cache
 * behind it, and the idle server's resident memory falls from ~290 to ~165 MB.
 */
const SERVER_START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB']

/**
 * glibc's malloc keeps what is freed to it for later, and V8 compiles PGlite's hottest functions
 * with TurboFan (from the start on) in zone memory of 32 KB segments, freed once a function is
 * compiled: the server process kept ~70 MB of them after a fresh start (~210 → ~140 MB
 * resident), more under load. From 32 KB on, malloc maps each block apart and unmaps it when
 * freed. A statement's CPU stayed the same (within 2 %), as did the start; C libraries other
 * than glibc ignore the variable.
 */
const SERVER_ENV = { MALLOC_MMAP_THRESHOLD_: '32768' }

/** What the server process tells its parent, once. */
type ServerReport =
  | { ready: string }
  | { initialized: true }
  | { inUse: { dataDir: string; pid: number } }
  | { failed: string }

/**
 * In this process: takes the directory's lock, opens PGlite and serves it, on a unix socket
 * next to the directory (only its owner may connect) or, when that path is too long, on
 * 127.0.0.1. Resolves with the connection string and a stop.
 */
export async function serveDataDir(dataDir: string): Promise<EmbeddedServer> {
  await mkdir(dataDir, { recursive: true })
  const lock = await lockDataDir(dataDir)
  const pglite = await PGlite.create(dataDir, { startParams: SERVER_START_PARAMS })
  forgetParsedMessages(pglite)
  const socketDir = `${dataDir}.run`
  const socketPath = join(socketDir, '.s.PGSQL.5432')
  const onSocket = socketPath.length <= MAX_SOCKET_PATH && process.platform !== 'win32'
  if (onSocket) {
    await mkdir(socketDir, { recursive: true, mode: 0o700 })
    // Left by a killed server: the lock says it is no longer anyone's.
    await rm(socketPath, { force: true })
  }
  const server = new PGLiteSocketServer({
    db: pglite,
    maxConnections: MAX_CONNECTIONS,
    ...(onSocket ? { path: socketPath } : { host: '127.0.0.1', port: 0 }),
  })
  await server.start()
  const url = onSocket
    ? `postgres://postgres@${encodeURIComponent(socketDir)}/postgres`
    : `postgres://postgres@${server.getServerConn()}/postgres`
  await lock.publish(url)
  return {
    url,
    async close() {
      await server.stop()
      await pglite.close()
      if (onSocket) await rm(socketDir, { recursive: true, force: true })
      await lock.release()
    },
  }
}

/**
 * PGlite parses each message it sends and keeps it for `execProtocol` to return, and only that
 * call empties the list: under `execProtocolRawStream`, what the socket server calls, every row
 * of every result would stay in memory for good (some 15 KB of heap per 50-message history
 * page: the server had grown by 300 MB after 12 000 of them, and its collections took longer).
 * A Terminate message given to `execProtocol` empties the list and runs nothing (PGlite returns
 * before reading it), so the session goes on.
 */
function forgetParsedMessages(pglite: PGlite) {
  const stream = pglite.execProtocolRawStream.bind(pglite)
  const terminate = new Uint8Array([0x58])
  pglite.execProtocolRawStream = async (message, options) => {
    try {
      await stream(message, options)
    } finally {
      await pglite.execProtocol(terminate, { syncToFs: false, throwOnError: false })
    }
  }
}

/** A new PGlite directory (initdb), under the directory's lock. */
async function initializeDataDir(dataDir: string) {
  await mkdir(dataDir, { recursive: true })
  const lock = await lockDataDir(dataDir)
  try {
    await (await PGlite.create(dataDir)).close()
  } finally {
    await lock.release()
  }
}

/**
 * The process side of `startEmbeddedServer`: serves until the parent disconnects, which it
 * does once its own clients closed, or by dying (a crash, SIGKILL): no orphan keeps the lock.
 * Ctrl-C and SIGTERM reach the whole process group; the parent may still be writing, so they
 * only start a delay after which the server stops anyway.
 */
export async function runEmbeddedServerProcess(
  dataDir: string,
  options: { initializeOnly?: boolean; graceMs?: number } = {},
) {
  // Sent before any exit: process.exit would drop a message still queued.
  const report = (message: ServerReport) =>
    new Promise<void>((resolve) =>
      process.send ? process.send(message, () => resolve()) : resolve(),
    )
  let serving: EmbeddedServer
  try {
    if (options.initializeOnly) {
      await initializeDataDir(dataDir)
      await report({ initialized: true })
      process.exit(0)
    }
    serving = await serveDataDir(dataDir)
  } catch (error) {
    await report(
      error instanceof DataDirInUseError
        ? { inUse: { dataDir: error.dataDir, pid: error.pid } }
        : { failed: String((error as Error).stack ?? error) },
    )
    process.exit(1)
  }
  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    void serving.close().finally(() => process.exit(0))
  }
  process.once('disconnect', stop)
  if (!process.connected) stop()
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => setTimeout(stop, options.graceMs ?? 15_000).unref())
  }
  await report({ ready: serving.url })
}

/**
 * Starts the data directory's server as a child process and resolves once it accepts
 * connections; rejects with DataDirInUseError at once when a live process holds the directory.
 * `onLost` hears of its death before `close` (a crash, a kill): the caller has no database.
 */
export async function startEmbeddedServer(
  dataDir: string,
  options: { onLost?: (reason: string) => void } = {},
): Promise<EmbeddedServer> {
  // PGlite's memory grows to some 800 MB creating a directory and is never given back: a
  // process of its own creates it, so that the server keeps only what serving takes (~140 MB).
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    const initializing = await spawnServerProcess(dataDir, { initialize: true })
    if (!('initialized' in initializing.report)) throw failure(initializing)
    await initializing.exited
  }
  const { child, exited, report } = await spawnServerProcess(dataDir)
  if (!('ready' in report)) throw failure({ child, report })
  let closing = false
  child.once('exit', (code, signal) => {
    if (!closing) options.onLost?.(`the database server process exited (${signal ?? code})`)
  })
  return {
    url: report.ready,
    async close() {
      closing = true
      if (child.exitCode === null && child.signalCode === null) {
        child.disconnect()
        await exited
      }
    },
  }
}

/** The server process (or the one creating the directory), once it said how it started. */
async function spawnServerProcess(dataDir: string, { initialize = false } = {}) {
  // From the build or the sources (run through tsx: the child inherits its loader flags).
  const fromSource = import.meta.url.endsWith('.ts')
  const entry = new URL(`./embedded-server-process.${fromSource ? 'ts' : 'js'}`, import.meta.url)
  // Under `node --watch` (the `dev` script) Node asks its children to report what they import
  // over the IPC channel: the server is no module of the watched app.
  const { WATCH_REPORT_DEPENDENCIES: _watching, ...env } = process.env
  const child: ChildProcess = spawn(
    process.execPath,
    [...process.execArgv, entry.pathname, dataDir, ...(initialize ? ['--initialize'] : [])],
    // The process creating the directory exits once done: it keeps nothing, and mapping each
    // block apart made its initdb ~20 % slower.
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: initialize ? env : { ...SERVER_ENV, ...env },
    },
  )
  const exited = once(child, 'exit')
  const report = await Promise.race([
    new Promise<ServerReport>((resolve) => {
      const onMessage = (message: unknown) => {
        if (!isServerReport(message)) return
        child.off('message', onMessage)
        resolve(message)
      }
      child.on('message', onMessage)
    }),
    exited.then(
      ([code]): ServerReport => ({
        failed: `the database server exited (${code}) before starting`,
      }),
    ),
  ])
  return { child, exited, report }
}

const isServerReport = (message: unknown): message is ServerReport =>
  typeof message === 'object' &&
  message !== null &&
  ['ready', 'initialized', 'inUse', 'failed'].some((key) => key in message)

function failure({ child, report }: { child: ChildProcess; report: ServerReport }): Error {
  child.kill()
  if ('inUse' in report) return new DataDirInUseError(report.inUse.dataDir, report.inUse.pid)
  return new Error(
    `The embedded database did not start: ${'failed' in report ? report.failed : ''}`,
  )
}
