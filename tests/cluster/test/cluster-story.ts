import type { MessageNotification, ServerFrame } from '@finchat/protocol'
import { ChatClient, createApiClient } from '@finchat/protocol/client'
import { type Deployment, PASSWORD } from '@finchat/testing'
import type { Test } from 'tap'

// What a user of the deployment does, through port 8000 only (the edge): register, log in, connect.

export const needsServers = !process.env.DATABASE_URL || !process.env.REDIS_URL

export const isMotd = (f: ServerFrame) => f.type === 'notification' && f.code === 'api-motd'
export const joinedBy = (user: string, room: string) => (f: ServerFrame) =>
  f.type === 'room:notification' && f.code === 'joined' && f.user === user && f.room_name === room
export const partedBy = (user: string, room: string) => (f: ServerFrame) =>
  f.type === 'room:notification' && f.code === 'parted' && f.user === user && f.room_name === room
export const isMessage = (body: string) => (f: ServerFrame) =>
  f.type === 'room:notification' && f.code === 'message' && f.body === body

/** Resolves once `url` answers `status` (checked every 100 ms), with how long it took. */
export async function until(url: string, status: number, timeoutMs = 20_000): Promise<number> {
  const started = Date.now()
  for (;;) {
    const response = await fetch(url).catch(() => undefined)
    await response?.body?.cancel()
    if (response?.status === status) return Date.now() - started
    if (Date.now() - started > timeoutMs) throw new Error(`${url} not ${status} in ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

export const isOwnEcho = (f: ServerFrame): f is MessageNotification =>
  f.type === 'room:notification' && f.code === 'message' && f.you

export class FatalAnswer extends Error {
  constructor(
    readonly username: string,
    readonly frame: ServerFrame,
  ) {
    super(`${username} was answered ${JSON.stringify(frame)}`)
  }
}

export function users(t: Test, deployment: Deployment) {
  const api = createApiClient(deployment.url)
  const tokens = new Map<string, string>()

  /**
   * Connects through port 8000, retrying while the connection itself fails (the edge has
   * not yet seen an instance go). A `fatal` answer is returned, not retried: tests assert on it.
   */
  async function connect(username: string, attempts = 50): Promise<ChatClient> {
    for (let attempt = 1; ; attempt++) {
      let client: ChatClient | undefined
      try {
        client = await ChatClient.connect(deployment.wsUrl, {
          token: tokens.get(username) as string,
        })
        t.teardown(() => (client as ChatClient).close())
        const first = await client.next(undefined, 10_000)
        if (isMotd(first)) return client
        throw new FatalAnswer(username, first)
      } catch (error) {
        if (error instanceof FatalAnswer || attempt >= attempts) throw error
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
  }

  return {
    api,
    tokens,
    /** A new user, registered and logged in through port 8000, connected. */
    async user(username: string) {
      await api.register({ username, password: PASSWORD })
      tokens.set(username, await api.login({ username, password: PASSWORD }))
      return connect(username)
    },
    connect,
  }
}

/** Which chat instance holds each connection, from the instances' connection gauges. */
export async function connectionsOn(url: string): Promise<number> {
  const metrics = await (await fetch(`${url}/metrics`)).text()
  const line = metrics.split('\n').find((l) => l.startsWith('chat_connections'))
  return Number(line?.split(' ').at(-1) ?? 0)
}
