import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { lookup } from 'node:dns/promises'
import { once } from 'node:events'
import { existsSync, rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Test } from 'tap'
import { freePort } from './redis-server.js'
import { REPO_ROOT } from './service-process.js'

/** The edge's config, the one docker compose mounts into the official haproxy image. */
export const EDGE_CONFIG = join(REPO_ROOT, 'infra', 'haproxy', 'haproxy.cfg')

/**
 * What a chat server added at run time is checked with. Dynamic servers take nothing from a
 * `default-server` line, so these repeat the compose path's `server-template` settings.
 */
const CHAT_SERVER_SETTINGS = 'check inter 1s fall 2 rise 2'

const INSTALL_HINT =
  "haproxy not found: install Debian's haproxy (apt-get install haproxy), or set HAPROXY_PATH"

export interface EdgeOptions {
  /** The gateway (or any HTTP server) everything but /ws/chat goes to, e.g. http://127.0.0.1:8000. */
  gatewayUrl: string
  /** Chat instances /ws/chat goes to; http:// or ws:// URLs, only the host and port count. */
  chatUrls: string[]
  /** Where the edge listens on 127.0.0.1; default: a free port. */
  port?: number
}

export interface EdgeServer {
  name: string
  /** host:port */
  address: string
  /** HAProxy's words: UP, DOWN, MAINT, `UP 1/2` (failing, not yet down), `DOWN 1/2`… */
  status: string
  /** The last check's outcome: L7OK, L7STS (wrong status), L4CON (refused), INI… */
  checkStatus: string
  /** Connections open to it now. */
  sessions: number
}

export interface EdgeProxy {
  /** http://127.0.0.1:PORT */
  url: string
  /** ws://127.0.0.1:PORT/ws/chat */
  wsUrl: string
  port: number
  process: ChildProcess
  pid: number
  /** Its latest output lines: the access log, server state changes, warnings. */
  logs: string[]
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Adds a chat instance and resolves once its health check has passed. */
  addChat(url: string): Promise<void>
  /** Takes a chat instance out: no new connections, its open ones cut, then deleted. */
  removeChat(url: string): Promise<void>
  /** The chat backend's servers as the edge sees them now. */
  chatServers(): Promise<EdgeServer[]>
  /** Resolves once the edge's view of the chat instance at `url` satisfies `accept`. */
  waitForChat(
    url: string,
    accept: (server: EdgeServer) => boolean,
    timeoutMs?: number,
  ): Promise<EdgeServer>
  /** Resolves with the first output line (already seen or to come) that matches. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>
  /** One command of HAProxy's runtime API, and its answer. */
  command(line: string): Promise<string>
  /** Stops it (SIGTERM: open tunnels are cut) and removes its temporary directory. */
  stop(): Promise<void>
}

/** The haproxy binary: HAPROXY_PATH, else PATH, else Debian's /usr/sbin (not always on PATH). */
export function haproxyBinary(): string | undefined {
  if (process.env.HAPROXY_PATH) return process.env.HAPROXY_PATH
  const directories = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin']
  for (const directory of directories) {
    if (directory && existsSync(join(directory, 'haproxy'))) return join(directory, 'haproxy')
  }
  return undefined
}

/** Whether haproxy can run here, so that tests can say skipped without it. */
export function haproxyAvailable(): boolean {
  const binary = haproxyBinary()
  return binary !== undefined && spawnSync(binary, ['-v'], { stdio: 'ignore' }).status === 0
}

/** `http://localhost:8002` → `127.0.0.1:8002`: dynamic servers are never resolved by HAProxy. */
async function serverAddress(url: string): Promise<string> {
  const parsed = new URL(url)
  const host = parsed.hostname.replace(/^\[|\]$/g, '')
  const { address, family } = await lookup(host)
  const port =
    parsed.port || (parsed.protocol === 'https:' || parsed.protocol === 'wss:' ? '443' : '80')
  return family === 6 ? `[${address}]:${port}` : `${address}:${port}`
}

/** Runs one runtime API command: HAProxy answers and closes the connection. */
function runtimeCommand(socketPath: string, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath)
    let answer = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk) => {
      answer += chunk
    })
    socket.on('end', () => resolve(answer))
    socket.on('error', reject)
    socket.write(`${line}\n`)
  })
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Runs Debian's haproxy in the foreground with the deployment's own config file, in front of
 * `gatewayUrl` and `chatUrls` on loopback, and resolves once it listens and every chat
 * instance has passed its health check. Nothing is written into the repository: the runtime
 * socket lives in a temporary directory.
 */
export async function startEdge(options: EdgeOptions): Promise<EdgeProxy> {
  const binary = haproxyBinary()
  if (!binary) throw new Error(INSTALL_HINT)
  // HAProxy needs a concrete port; a chosen one may be taken between the choice and the bind,
  // so a port of our own choosing is chosen again when that happens.
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort())
    try {
      return await launch(binary, port, options)
    } catch (error) {
      const taken = /cannot bind socket|Address already in use/i.test(String(error))
      if (!taken || options.port !== undefined || attempt >= 3) throw error
    }
  }
}

async function launch(binary: string, port: number, options: EdgeOptions): Promise<EdgeProxy> {
  const directory = await mkdtemp(join(tmpdir(), 'finchat-edge-'))
  const socketPath = join(directory, 'edge.sock')
  const child = spawn(binary, ['-db', '-f', EDGE_CONFIG], {
    cwd: directory,
    // Only what the config reads: a CHAT_DNS_NAME in the caller's environment would switch the
    // config to Docker's DNS.
    env: {
      PATH: process.env.PATH,
      EDGE_PORT: String(port),
      EDGE_HOST: '127.0.0.1',
      GATEWAY_ADDRESS: await serverAddress(options.gatewayUrl),
      EDGE_RUNTIME_SOCKET: socketPath,
      ...(process.env.EDGE_THREADS ? { EDGE_THREADS: process.env.EDGE_THREADS } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  // 'close', not 'exit': by then its last output lines (why it stopped) have been read.
  const exited = once(child, 'close').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }))

  const logs: string[] = []
  const watchers = new Set<(line: string) => void>()
  const remember = (line: string) => {
    logs.push(line)
    if (logs.length > 2000) logs.shift()
    for (const watcher of watchers) watcher(line)
  }
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', remember)
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', remember)

  // haproxy does not notice its parent going away: one left over would keep the port.
  const orphaned = () => {
    child.kill('SIGKILL')
    rmSync(directory, { recursive: true, force: true })
  }
  process.once('exit', orphaned)

  let stopped: Promise<void> | undefined
  const stop = () => {
    stopped ??= (async () => {
      process.removeListener('exit', orphaned)
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        await exited
        clearTimeout(timer)
      }
      await rm(directory, { recursive: true, force: true })
    })()
    return stopped
  }

  const command = (line: string) => runtimeCommand(socketPath, line)
  const names = new Map<string, string>()
  let next = 1

  const chatServers = async (): Promise<EdgeServer[]> => {
    const csv = await command('show stat chat 4 -1')
    const [header, ...rows] = csv.trim().split('\n')
    const columns = (header ?? '').replace(/^# /, '').split(',')
    const column = (row: string[], name: string) => row[columns.indexOf(name)] ?? ''
    return rows
      .map((row) => row.split(','))
      .map((row) => ({
        name: column(row, 'svname'),
        address: column(row, 'addr'),
        status: column(row, 'status'),
        checkStatus: column(row, 'check_status'),
        sessions: Number(column(row, 'scur')),
      }))
  }

  const nameOf = async (url: string) => {
    const name = names.get(await serverAddress(url))
    if (!name) throw new Error(`${url} is not a chat server of this edge`)
    return name
  }

  const waitForChat = async (
    url: string,
    accept: (server: EdgeServer) => boolean,
    timeoutMs = 10_000,
  ) => {
    const name = await nameOf(url)
    const deadline = Date.now() + timeoutMs
    let last: EdgeServer | undefined
    for (;;) {
      last = (await chatServers()).find((server) => server.name === name)
      if (last && accept(last)) return last
      if (Date.now() > deadline) {
        throw new Error(
          `edge: ${url} (${name}) still ${JSON.stringify(last)} after ${timeoutMs} ms`,
        )
      }
      // The runtime API has no events to wait on: its state is read again shortly.
      await pause(50)
    }
  }

  const expect = async (line: string, answer: RegExp) => {
    const reply = await command(line)
    if (!answer.test(reply.trim())) throw new Error(`edge: "${line}" answered: ${reply.trim()}`)
  }

  const addChat = async (url: string) => {
    const address = await serverAddress(url)
    if (names.has(address)) throw new Error(`${url} is already a chat server of this edge`)
    const name = `chat-${next++}`
    names.set(address, name)
    const server = `chat/${name}`
    await expect(`add server ${server} ${address} ${CHAT_SERVER_SETTINGS}`, /New server registered/)
    // A dynamic server starts in maintenance with its checks off; both are switched on here.
    await expect(`enable health ${server}`, /^$/)
    await expect(`enable server ${server}`, /^$/)
    // Leaving maintenance, HAProxy counts the server as up before any check has passed: wait
    // for a check of its own to say it is ready.
    await waitForChat(url, (state) => state.status === 'UP' && state.checkStatus === 'L7OK')
  }

  const removeChat = async (url: string) => {
    const name = await nameOf(url)
    const server = `chat/${name}`
    await expect(`set server ${server} state maint`, /^$/)
    await command(`shutdown sessions server ${server}`)
    // Deleting is refused while connections (open or idle) remain; they go shortly after.
    const deadline = Date.now() + 10_000
    for (;;) {
      const reply = (await command(`del server ${server}`)).trim()
      if (/Server deleted/.test(reply)) break
      if (Date.now() > deadline) throw new Error(`edge: del server ${server}: ${reply}`)
      await pause(100)
    }
    names.delete(await serverAddress(url))
  }

  const waitForLog = (pattern: RegExp, timeoutMs = 10_000) => {
    const seen = logs.find((line) => pattern.test(line))
    if (seen) return Promise.resolve(seen)
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        watchers.delete(watcher)
        reject(new Error(`edge: no log line matching ${pattern} after ${timeoutMs} ms`))
      }, timeoutMs)
      const watcher = (line: string) => {
        if (!pattern.test(line)) return
        clearTimeout(timer)
        watchers.delete(watcher)
        resolve(line)
      }
      watchers.add(watcher)
    })
  }

  try {
    // Ready once the runtime API answers (it is served after every listener is bound) and
    // the port takes connections.
    const deadline = Date.now() + 10_000
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
    void exited.then((value) => {
      exit = value
    })
    for (;;) {
      if (exit) throw new Error(`haproxy exited (${exit.code ?? exit.signal}):\n${logs.join('\n')}`)
      const answering = await command('show info').then(
        (info) => info.includes('Pid:'),
        () => false,
      )
      if (answering && (await accepts(port))) break
      if (Date.now() > deadline)
        throw new Error(`haproxy not ready after 10 s:\n${logs.join('\n')}`)
      await pause(25)
    }
    for (const url of options.chatUrls) await addChat(url)
  } catch (error) {
    await stop()
    throw error
  }

  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws/chat`,
    port,
    process: child,
    pid: child.pid as number,
    logs,
    exited,
    addChat,
    removeChat,
    chatServers,
    waitForChat,
    waitForLog,
    command,
    stop,
  }
}

/** An edge for a test: stopped at teardown, its output printed when the test failed. */
export async function spawnEdge(t: Test, options: EdgeOptions): Promise<EdgeProxy> {
  const edge = await startEdge(options)
  t.teardown(async () => {
    if (!t.passing()) t.comment(`edge (haproxy) log:\n${edge.logs.join('\n')}`)
    await edge.stop()
  })
  return edge
}
