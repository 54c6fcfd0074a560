import { readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import type { Socket } from 'node:net'
import type { ServerFrame } from '@finchat/protocol'
import { ChatClient, createApiClient } from '@finchat/protocol/client'
import { type Deployment, PASSWORD, startDeployment } from '@finchat/testing'
import t, { type Test } from 'tap'
import WebSocket from 'ws'
import { isMotd, joinedBy, needsServers, partedBy } from './cluster-story.js'

// Port 8000 is a byte-level hop for websockets, whichever edge holds it: the Node gateway or
// the deployment's HAProxy. So what chat does about a client (pings, the slow-consumer close,
// the frame limit, its close codes) reaches the real client, and an instance that died is never
// handed a new connection.

const PING_INTERVAL_MS = 1000
const MAX_BUFFERED_BYTES = 256 * 1024
const STORY_ENV = {
  CHAT_MAX_BUFFERED_BYTES: String(MAX_BUFFERED_BYTES),
  // The slow reader asks for many large answers in a burst: the allowance must not stop it.
  CHAT_RATE_BURST: '5000',
  CHAT_RATE_PER_SECOND: '5000',
  // Small, so that the address story reaches the per-address limit in a few tries.
  LOGIN_MAX_FAILURES_PER_IP: '3',
}

interface Edge {
  name: string
  /** Where clients go for REST and websockets. */
  url: string
  /** The process whose memory must stay bounded. */
  pid: number
}

function edgesOf(deployment: Deployment): Edge[] {
  const edges: Edge[] = [
    {
      name: 'the Node gateway',
      url: deployment.gateway.url,
      pid: deployment.gateway.process.pid as number,
    },
  ]
  if (deployment.edge) {
    edges.push({ name: 'HAProxy', url: deployment.edge.url, pid: deployment.edge.pid })
  }
  return edges
}

const rssKiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1])

let counter = 0

/** A user of its own, registered and logged in through the edge. */
async function newUser(edge: Edge, prefix: string) {
  const username = `${prefix}${++counter}`
  const api = createApiClient(edge.url)
  await api.register({ username, password: PASSWORD })
  return { username, token: await api.login({ username, password: PASSWORD }) }
}

async function connect(t: Test, edge: Edge, token: string, options: { autoPong?: boolean } = {}) {
  const client = await ChatClient.connect(`${edge.url.replace('http', 'ws')}/ws/chat`, {
    token,
    ...options,
  })
  t.teardown(() => client.socket.terminate())
  await client.next(isMotd)
  return client
}

/** The TCP socket under a client's websocket: pausing it is a client that stops reading. */
const tcpOf = (client: ChatClient) => (client.socket as unknown as { _socket: Socket })._socket

t.test('stories through port 8000, for each edge', async (t) => {
  if (needsServers) {
    t.pass('skipped: needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)')
    return
  }
  const deployment = await startDeployment(t, { env: STORY_ENV })
  await deployment.createRooms('edge')

  for (const edge of edgesOf(deployment)) {
    await t.test(`through ${edge.name}`, async (t) => {
      const witness = await connect(t, edge, (await newUser(edge, 'witness')).token)
      await witness.join('edge')

      await t.test(
        'a client that stops reading is closed with 4008; the edge holds little for it',
        async (t) => {
          // Fifty long messages, so that each history answer is large (~30 KB).
          const writer = await connect(t, edge, (await newUser(edge, 'writer')).token)
          await writer.join('edge')
          for (let n = 0; n < 50; n++) await writer.say('edge', `${n} ${'x'.repeat(500)}`)

          const reader = await newUser(edge, 'reader')
          const slow = await connect(t, edge, reader.token)
          await slow.join('edge')
          await witness.next(joinedBy(reader.username, 'edge'))
          const before = rssKiB(edge.pid)
          tcpOf(slow).pause()
          // About 90 MB of answers asked for, far more than the sockets' buffers hold.
          for (let n = 0; n < 3000; n++) {
            slow.send({ type: 'history', room_name: 'edge', before: 1_000_000_000 } as never)
          }
          await witness.next(partedBy(reader.username, 'edge'), 30_000)
          const grown = rssKiB(edge.pid) - before
          t.ok(grown < 20 * 1024, `the edge grew ${grown} KiB while the client read nothing`)
          // Reading again, the client finds chat's own close code after what it had been sent.
          tcpOf(slow).resume()
          const closed = await slow.closed
          t.equal(closed.code, 4008, 'closed as a slow consumer, code unchanged')
        },
      )

      await t.test('a token in the query string is in no log line', async (t) => {
        const { token } = await newUser(edge, 'query')
        const client = await ChatClient.connect(`${edge.url.replace('http', 'ws')}/ws/chat`, {
          token,
          tokenIn: 'query',
        })
        t.teardown(() => client.socket.terminate())
        await client.next(isMotd)
        const logs = [
          deployment.gateway,
          ...deployment.chats,
          ...(deployment.edge ? [deployment.edge] : []),
        ].flatMap((service) => service.logs)
        t.ok(
          logs.some((line) => line.includes('/ws/chat')),
          'the handshake was logged',
        )
        t.same(
          logs.filter((line) => line.includes(token)),
          [],
          'but never with its token',
        )
      })

      await t.test('login limits count the real client address, never a forged one', async (t) => {
        // Two clients on loopback addresses of their own; the guesser forges X-Forwarded-For.
        const guesser = `127.0.0.${10 + (counter++ % 200)}`
        const honest = `127.0.0.${10 + (counter++ % 200)}`
        const victim = await newUser(edge, 'victim')
        const statuses: number[] = []
        for (let n = 0; n < 4; n++) {
          const answer = await post(
            `${edge.url}/login`,
            { username: `nobody${n}`, password: 'wrong-password' },
            { localAddress: guesser, headers: { 'x-forwarded-for': `6.6.6.${n}` } },
          )
          statuses.push(answer.status)
        }
        t.same(statuses, [400, 400, 400, 429], 'the guesser is limited, whatever it writes')
        const other = await post(
          `${edge.url}/login`,
          { username: victim.username, password: PASSWORD },
          { localAddress: honest },
        )
        t.equal(other.status, 200, 'another address is not: the edge is not everyone')
      })

      await t.test('the web cookie is Secure only when the edge says https', async (t) => {
        const { username } = await newUser(edge, 'cookie')
        const login = { username, password: PASSWORD }
        const plain = await post(`${edge.url}/session`, login, { localAddress: '127.0.0.1' })
        t.notMatch(String(plain.headers['set-cookie']), /Secure/i, 'plain http: not Secure')
        const forged = await post(`${edge.url}/session`, login, {
          localAddress: '127.0.0.1',
          headers: { 'x-forwarded-proto': 'https' },
        })
        if (edge.name === 'HAProxy') {
          // The edge sets the header from its own connection: a client's word is not taken.
          t.notMatch(String(forged.headers['set-cookie']), /Secure/i, 'a forged https: not Secure')
        } else {
          // The gateway trusts one proxy in front of it: what that proxy says is believed.
          t.match(String(forged.headers['set-cookie']), /Secure/i, 'an edge that says https')
        }
      })

      await t.test('a 70 KB frame closes that connection with 1009', async (t) => {
        const big = await connect(t, edge, (await newUser(edge, 'big')).token)
        big.sendRaw(
          JSON.stringify({ type: 'message', room_name: 'edge', body: 'x'.repeat(70_000) }),
        )
        t.equal((await big.closed).code, 1009)
      })
    })
  }

  await t.test(
    'an instance killed: its clients see 1006, new connections never land on it',
    async (t) => {
      const edges = edgesOf(deployment)
      const [first] = deployment.chats
      if (!first) throw new Error('two chat instances expected')
      // Clients on both instances through every edge; those on the first will see it die.
      const onFirst: ChatClient[] = []
      for (const edge of edges) {
        for (let n = 0; n < 4; n++) {
          const { token } = await newUser(edge, 'doomed')
          const before = await connectionsOn(first.url)
          const client = await connect(t, edge, token)
          if ((await connectionsOn(first.url)) > before) onFirst.push(client)
        }
      }
      t.ok(onFirst.length > 0, 'some clients are on the instance about to die')
      // Users for the handshakes right after the kill, registered before it.
      const later = new Map<Edge, string[]>()
      for (const edge of edges) {
        const tokens: string[] = []
        for (let n = 0; n < 10; n++) tokens.push((await newUser(edge, 'after')).token)
        later.set(edge, tokens)
      }
      await first.stop('SIGKILL')
      // At once, before any health check noticed, the edges taking turns: every handshake
      // either opens a working connection (its MOTD arrives) or is refused before the upgrade.
      const outcomes = new Map<Edge, Map<string, number>>(edges.map((edge) => [edge, new Map()]))
      for (let n = 0; n < 10; n++) {
        for (const edge of edges) {
          const token = later.get(edge)?.[n] as string
          const outcome = await handshake(`${edge.url.replace('http', 'ws')}/ws/chat`, token)
          const counts = outcomes.get(edge) as Map<string, number>
          counts.set(outcome, (counts.get(outcome) ?? 0) + 1)
        }
      }
      for (const [edge, counts] of outcomes) {
        t.notOk(counts.has('upgraded, then dropped'), `${edge.name}: ${[...counts].join('; ')}`)
        t.ok(counts.get('motd'), `${edge.name}: connections still open on the survivor`)
      }
      const codes = await Promise.all(onFirst.map(async (client) => (await client.closed).code))
      t.same(new Set(codes), new Set([1006]), 'the connection broke: 1006, as PROTOCOL.md says')
    },
  )
})

// Pings every second here, where the others keep the default 30 s: a client that stops reading
// also stops answering pings, and must be found slow, not dead, in the stories above.
t.test('a client that stops answering pings is dropped within two intervals', async (t) => {
  if (needsServers) {
    t.pass('skipped: needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)')
    return
  }
  const deployment = await startDeployment(t, {
    env: { CHAT_PING_INTERVAL_MS: String(PING_INTERVAL_MS) },
  })
  await deployment.createRooms('edge')
  for (const edge of edgesOf(deployment)) {
    await t.test(`through ${edge.name}`, async (t) => {
      const witness = await connect(t, edge, (await newUser(edge, 'witness')).token)
      await witness.join('edge')
      const ghost = await newUser(edge, 'ghost')
      const client = await connect(t, edge, ghost.token, { autoPong: false })
      await client.join('edge')
      const joinedAt = performance.now()
      await witness.next(partedBy(ghost.username, 'edge'), 5 * PING_INTERVAL_MS)
      const after = performance.now() - joinedAt
      t.ok(after < 2 * PING_INTERVAL_MS + 1000, `parted ${Math.round(after)} ms after joining`)
      // And one that answers stays: the pings reach the client, not the edge.
      const awake = await newUser(edge, 'awake')
      const live = await connect(t, edge, awake.token)
      await live.join('edge')
      const parted: ServerFrame[] = []
      const stop = witness.onFrame((f) => {
        if (partedBy(awake.username, 'edge')(f)) parted.push(f)
      })
      // An absence can only be waited for: three intervals, then it still speaks in the room.
      await new Promise((resolve) => setTimeout(resolve, 3 * PING_INTERVAL_MS))
      await live.say('edge', 'still here')
      stop()
      t.same(parted, [], 'a client answering pings is still a member after three intervals')
    })
  }
})

async function connectionsOn(url: string): Promise<number> {
  const metrics = await (await fetch(`${url}/metrics`)).text()
  const line = metrics.split('\n').find((l) => l.startsWith('chat_connections'))
  return Number(line?.split(' ').at(-1) ?? 0)
}

/** One handshake with a plain `ws` client, and what came of it. */
function handshake(url: string, token: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`${url}?token=${encodeURIComponent(token)}`)
    socket.on('unexpected-response', (_request, response) => {
      socket.terminate()
      resolve(`refused ${response.statusCode}`)
    })
    socket.on('error', () => resolve('failed before the upgrade'))
    socket.on('message', (data) => {
      if (JSON.parse(String(data)).code === 'api-motd') {
        socket.terminate()
        resolve('motd')
      }
    })
    socket.on('close', () => resolve('upgraded, then dropped'))
  })
}

/** A POST with a JSON body from a chosen loopback address, as undici's fetch cannot. */
function post(
  url: string,
  body: unknown,
  options: { localAddress: string; headers?: Record<string, string> },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      {
        method: 'POST',
        localAddress: options.localAddress,
        headers: { 'content-type': 'application/json', ...options.headers },
      },
      (response) => {
        response.resume()
        response.on('end', () =>
          resolve({ status: response.statusCode as number, headers: response.headers }),
        )
      },
    )
    request.on('error', reject)
    request.end(JSON.stringify(body))
  })
}
