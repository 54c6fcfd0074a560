import { once } from 'node:events'
import WebSocket from 'ws'

/** Makes a server process open the DevTools protocol on a free loopback port. */
export const INSPECT_ARG = '--inspect=127.0.0.1:0'

/** The DevTools address a process started with `INSPECT_ARG` printed, among its output lines. */
export function inspectorUrlIn(lines: string[]): string | undefined {
  for (const line of lines) {
    const url = /Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1]
    if (url) return url
  }
  return undefined
}

/**
 * A full garbage collection in the process behind `url`, then its JavaScript heap in use, in
 * MiB: what is alive, not what the process happened not to have collected yet (such as the
 * garbage of compiling its TypeScript at start).
 */
export async function collectGarbage(url: string): Promise<number> {
  const socket = new WebSocket(url)
  try {
    await once(socket, 'open')
    const call = async (id: number, method: string) => {
      const reply = once(socket, 'message')
      socket.send(JSON.stringify({ id, method }))
      const [data] = await reply
      return JSON.parse(String(data)).result
    }
    await call(1, 'HeapProfiler.collectGarbage')
    const usage = (await call(2, 'Runtime.getHeapUsage')) as { usedSize: number }
    return usage.usedSize / 2 ** 20
  } finally {
    socket.close()
  }
}
