import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import { type AddressInfo, connect as netConnect } from 'node:net'
import { join } from 'node:path'
import {
  EDGE_CONFIG,
  haproxyAvailable,
  haproxyBinary,
  REPO_ROOT,
  spawnEdge,
} from '@finchat/testing'
import t, { type Test } from 'tap'
import WebSocket, { WebSocketServer } from 'ws'
import { parse } from 'yaml'

// Port 8000's edge is HAProxy with infra/haproxy/haproxy.cfg, the file docker compose mounts.
// Here Debian's haproxy runs it in front of throwaway servers made by each story: a gateway
// that echoes what it was sent, and chat instances that greet each websocket with their name.

interface Seen {
  url: string
  headers: IncomingHttpHeaders
}

async function listen(server: ReturnType<typeof createServer>) {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** A gateway stand-in: answers every request with the path and headers it received. */
async function gatewayStub(t: Test) {
  /** Clients' requests: the edge's own health checks (no X-Forwarded-For) are left out. */
  const requests: Seen[] = []
  const server = createServer((request, response) => {
    if (request.headers['x-forwarded-for']) {
      requests.push({ url: request.url ?? '', headers: request.headers })
    }
    response.setHeader('content-type', 'application/json')
    response.end(JSON.stringify({ by: 'gateway', url: request.url, headers: request.headers }))
  })
  const url = await listen(server)
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  return { url, requests }
}

interface ChatStub {
  name: string
  url: string
  /** The websocket upgrades it accepted. */
  upgrades: Seen[]
  /** What its /readyz answers: 200, or 503 as a draining instance does. */
  readyStatus: number
  /** Set: handshakes are refused with it, as Fastify answers 503 once it has begun to close. */
  upgradeStatus?: number
  /** Gone at once, as after SIGKILL: its port refuses connections, its sockets are cut. */
  kill(): void
}

/** A chat stand-in: /readyz, and /ws/chat websockets greeted with its name and echoed. */
async function chatStub(t: Test, name: string): Promise<ChatStub> {
  const sockets = new WebSocketServer({ noServer: true })
  const server = createServer((request, response) => {
    response.statusCode = request.url === '/readyz' ? stub.readyStatus : 404
    response.end()
  })
  server.on('upgrade', (request, socket, head) => {
    if (stub.upgradeStatus) {
      // The edge resets the connection once it has the answer it will retry elsewhere.
      socket.on('error', () => {})
      socket.end(`HTTP/1.1 ${stub.upgradeStatus} Service Unavailable\r\nContent-Length: 0\r\n\r\n`)
      return
    }
    stub.upgrades.push({ url: request.url ?? '', headers: request.headers })
    sockets.handleUpgrade(request, socket, head, (ws) => {
      ws.send(`hello from ${name}`)
      ws.on('message', (data, isBinary) =>
        ws.send(isBinary ? data : `echo: ${data}`, { binary: isBinary }),
      )
    })
  })
  const kill = () => {
    server.close()
    server.closeAllConnections()
    for (const client of sockets.clients) client.terminate()
  }
  const stub: ChatStub = { name, url: await listen(server), upgrades: [], readyStatus: 200, kill }
  t.teardown(kill)
  return stub
}

type Answer =
  | { status: 101; socket: WebSocket; greeting: string }
  | { status: 101; dropped: true }
  | { status: number; body: string }

/** A gateway stub and a chat stub per name, with the edge in front of them all. */
async function edgeBefore<Names extends string[]>(t: Test, ...names: Names) {
  const gateway = await gatewayStub(t)
  const stubs: ChatStub[] = []
  for (const name of names) stubs.push(await chatStub(t, name))
  // One stub per name, in order: typed as such, so that destructuring needs no checks.
  const chats = stubs as { [K in keyof Names]: ChatStub }
  const edge = await spawnEdge(t, {
    gatewayUrl: gateway.url,
    chatUrls: stubs.map((chat) => chat.url),
  })
  return { gateway, chats, edge }
}

/** Opens a websocket as a client does, and says what it got: a greeting, a drop, or a refusal. */
function connect(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers })
    socket.once('unexpected-response', (request, response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk) => {
        body += chunk
      })
      response.on('end', () => {
        request.destroy()
        resolve({ status: response.statusCode ?? 0, body })
      })
    })
    socket.once('message', (data) => resolve({ status: 101, socket, greeting: String(data) }))
    socket.once('close', () => resolve({ status: 101, dropped: true }))
    socket.once('error', reject)
  })
}

/**
 * Two instances behind the edge, one of them holding a client (leastconn): the edge's next
 * choice is the idle one.
 */
async function oneBusyOneIdle(t: Test) {
  const {
    chats: [first, second],
    edge,
  } = await edgeBefore(t, 'chat-a', 'chat-b')
  const settled = await greeting(t, edge.wsUrl)
  const [busy, idle] = settled.greeting.endsWith('chat-a') ? [first, second] : [second, first]
  return { edge, busy, idle, settled }
}

async function greeting(t: Test, url: string) {
  const answer = await connect(url)
  if (!('greeting' in answer)) throw new Error(`expected a greeting, got ${JSON.stringify(answer)}`)
  t.teardown(() => answer.socket.terminate())
  return answer
}

async function close(socket: WebSocket) {
  if (socket.readyState === WebSocket.CLOSED) return
  socket.close()
  await once(socket, 'close')
}

if (!haproxyAvailable()) {
  t.pass("skipped: no haproxy (apt-get install haproxy, Debian's package, or set HAPROXY_PATH)")
} else {
  stories()
}

function stories() {
  t.test('the compose environment gives a valid config (Docker-DNS slots for chat)', async (t) => {
    // The edge service's environment as docker compose hands it over, with `${X:-default}`
    // taking its default (CHAT_SLOTS=10).
    const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: { edge: { environment: Record<string, string> } }
    }
    const env = Object.fromEntries(
      Object.entries(compose.services.edge.environment).map(([name, value]) => [
        name,
        String(value).replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1'),
      ]),
    )
    t.same(env, {
      EDGE_PORT: '8000',
      CHAT_DNS_NAME: 'chat:8002',
      CHAT_SLOTS: '10',
      GATEWAY_ADDRESS: 'gateway:8000',
    })
    const check = spawnSync(haproxyBinary() as string, ['-c', '-f', EDGE_CONFIG], {
      env,
      encoding: 'utf8',
    })
    const output = `${check.stdout}${check.stderr}`
    t.equal(check.status, 0, output)
    t.match(output, /Configuration file is valid/)
    t.notMatch(
      output,
      /ALERT/,
      'nothing worse than the warning that "gateway" does not resolve here',
    )
  })

  t.test('a websocket goes through to a chat instance, bytes both ways', async (t) => {
    const {
      gateway,
      chats: [chat],
      edge,
    } = await edgeBefore(t, 'chat-a')

    const { socket, greeting: hello } = await greeting(t, `${edge.wsUrl}?token=secret`)
    t.equal(hello, 'hello from chat-a', 'the chat instance speaks first, through the edge')
    t.equal(chat.upgrades[0]?.url, '/ws/chat?token=secret', 'the query reaches chat untouched')
    t.equal(gateway.requests.length, 0, 'the gateway never saw it')

    socket.send('how are you')
    const [echo] = await once(socket, 'message')
    t.equal(String(echo), 'echo: how are you')
    // A frame larger than any buffer on the way comes back byte for byte.
    const big = Buffer.alloc(200_000, 7)
    socket.send(big)
    const [back] = await once(socket, 'message')
    t.ok(Buffer.compare(back as Buffer, big) === 0, 'a 200 kB binary frame comes back intact')

    const slash = await greeting(t, `${edge.url.replace('http', 'ws')}/ws/chat/?token=secret`)
    t.equal(slash.greeting, 'hello from chat-a', '/ws/chat/ goes to chat too')
    await close(socket)
    await close(slash.socket)
  })

  t.test('the access log never holds a query string (no token in any line)', async (t) => {
    const { edge } = await edgeBefore(t, 'chat-a')

    const { socket } = await greeting(t, `${edge.wsUrl}?token=secret`)
    await close(socket)
    const response = await fetch(`${edge.url}/rooms?token=secret&x=1`)
    t.equal(response.status, 200)
    await response.text()

    // A tunnel is logged when it ends, by the tcp frontend: no request line at all. A request
    // is logged when it is answered, by the http frontend: its path without the query.
    const wsLine = await edge.waitForLog(/ public chat\/chat-\d+ /)
    const httpLine = await edge.waitForLog(/ http gateway\/gateway .* GET "\/rooms" /)
    t.notMatch(wsLine, /GET|\/ws\/chat/, 'the tunnel is logged with its instance, no URL')
    t.match(httpLine, / 200 /)
    t.notOk(
      edge.logs.some((line) => / public to_http\//.test(line)),
      'an HTTP connection is logged once, by the http frontend',
    )
    t.same(
      edge.logs.filter((line) => /secret|token=/.test(line)),
      [],
      'no log line holds the token',
    )
  })

  t.test("a client's own X-Forwarded-For never gets through: the edge sets it", async (t) => {
    const {
      chats: [chat],
      edge,
    } = await edgeBefore(t, 'chat-a')
    const lies = {
      'X-Forwarded-For': '6.6.6.6',
      'X-Forwarded-Proto': 'https',
      'X-Forwarded-Host': 'evil.example',
      Forwarded: 'for=6.6.6.6',
    }

    const response = await fetch(`${edge.url}/profile`, { headers: lies })
    const seen = (await response.json()) as { url: string; headers: IncomingHttpHeaders }
    t.equal(seen.url, '/profile')
    t.equal(seen.headers['x-forwarded-for'], '127.0.0.1', 'the gateway sees the real client')
    t.equal(seen.headers['x-forwarded-proto'], 'http', 'the client came over plain http')
    t.equal(seen.headers['x-forwarded-host'], `127.0.0.1:${edge.port}`, 'the Host it asked for')
    t.notOk(seen.headers.forwarded, 'no Forwarded header')

    // A websocket is a TCP tunnel: the edge does not rewrite its handshake, so chat gets the
    // headers as the client wrote them, lies included, and the edge's address as its peer.
    // Chat believes no X-Forwarded-* for the client's address (no trustProxy), so nothing is
    // lost: it never used them.
    const { socket } = await new Promise<{ socket: WebSocket }>((resolve, reject) => {
      const ws = new WebSocket(`${edge.wsUrl}?token=secret`, { headers: lies })
      ws.once('message', () => resolve({ socket: ws }))
      ws.once('error', reject)
    })
    await close(socket)
    const upgrade = chat.upgrades[0]?.headers ?? {}
    t.equal(upgrade['x-forwarded-for'], '6.6.6.6', 'the handshake reaches chat as sent')
    t.equal(upgrade.forwarded, 'for=6.6.6.6')
  })

  t.test(
    '/metrics and /readyz are 404 at the edge; /healthz and the rest reach the gateway',
    async (t) => {
      const { gateway, edge } = await edgeBefore(t, 'chat-a')

      // Written as a client might, to slip past a literal match.
      for (const path of [
        '/metrics',
        '/readyz',
        '/readyz?full=1',
        '/metrics/',
        '//metrics',
        '/METRICS',
        '/%6detrics',
      ]) {
        const response = await fetch(`${edge.url}${path}`)
        t.equal(response.status, 404, `${path} is 404`)
        t.same(await response.json(), { detail: 'Not Found' }, `${path} answered by the edge`)
      }
      t.same(gateway.requests, [], 'none of them reached the gateway')

      for (const path of ['/healthz', '/', '/docs', '/rooms', '/metricsfoo']) {
        const response = await fetch(`${edge.url}${path}`)
        t.equal(response.status, 200, `${path} is served`)
        t.match(
          await response.json(),
          { by: 'gateway', url: path },
          `${path} came from the gateway`,
        )
      }
    },
  )

  t.test(
    'an instance killed since its last check: the next client lands on the other',
    async (t) => {
      // One client is on an instance; the other one, with fewer connections, is the edge's next
      // choice. That one dies.
      const { edge, busy, idle, settled } = await oneBusyOneIdle(t)
      idle.kill()
      // Still up to the edge (at most one failed check, `UP 1/2`): it will pick the dead one.
      t.match(
        (await edge.chatServers()).find((server) => server.sessions === 0)?.status,
        /^UP/,
        'the edge has not noticed yet',
      )

      const next = await connect(`${edge.wsUrl}?token=secret`)
      t.match(
        next,
        { status: 101, greeting: `hello from ${busy.name}` },
        'upgraded by the live one',
      )
      t.notOk('dropped' in next, 'never upgraded and then dropped')
      if ('socket' in next) await close(next.socket)
      // The log's retries field (…/%rc): "+1" is one retry, redispatched to another server.
      const line = await edge.waitForLog(/ public chat\/chat-\d+ .*\/\+[1-9]\d* \d+\/\d+$/)
      t.ok(line, 'refused by the dead one, retried elsewhere')

      // Then the other one dies too, before any check noticed: every connect is refused, and a
      // tunnel has no answer of its own to give (HTTP mode answered a JSON 503 here): the
      // connection is closed before any upgrade, never upgraded and then dropped.
      busy.kill()
      await once(settled.socket, 'close')
      const none = await connect(edge.wsUrl).catch((error: Error) => ({ error: error.message }))
      t.match(none, { error: /socket hang up|ECONNRESET/ }, 'no instance left: closed, no upgrade')

      // Once the edge has seen them down, the HTTP side answers, in JSON.
      for (const stub of [busy, idle]) await edge.waitForChat(stub.url, (s) => s.status === 'DOWN')
      const later = await connect(edge.wsUrl)
      t.match(later, { status: 503 }, 'both seen down: a 503 before any upgrade')
      t.same(JSON.parse((later as { body: string }).body), {
        detail: 'no chat instance is available',
      })
    },
  )

  t.test('an instance whose /readyz fails gets no new connections, then comes back', async (t) => {
    const {
      chats: [draining],
      edge,
    } = await edgeBefore(t, 'chat-a', 'chat-b')

    draining.readyStatus = 503
    const down = await edge.waitForChat(draining.url, (s) => s.status === 'DOWN')
    t.equal(down.checkStatus, 'L7STS', 'taken out by its health check (wrong status)')
    const before = draining.upgrades.length
    for (let i = 0; i < 6; i++) {
      t.equal(
        (await greeting(t, edge.wsUrl)).greeting,
        'hello from chat-b',
        `client ${i} on chat-b`,
      )
    }
    t.equal(draining.upgrades.length, before, 'the draining instance got none of them')

    draining.readyStatus = 200
    await edge.waitForChat(draining.url, (s) => s.status === 'UP')
    t.equal(
      (await greeting(t, edge.wsUrl)).greeting,
      'hello from chat-a',
      'ready again: it takes the next',
    )
  })

  t.test(
    'an instance that has begun to stop refuses a handshake: 503 before any upgrade',
    async (t) => {
      // Its /readyz still says ready (the edge has not checked since), but it answers 503. The
      // edge only joins bytes, it reads no answer: no retry elsewhere (HTTP mode's L7 retry),
      // the client gets that 503 itself, before any upgrade, and may try again. Never a 101
      // and then a drop.
      const { edge, busy, idle } = await oneBusyOneIdle(t)
      idle.upgradeStatus = 503
      const next = await connect(edge.wsUrl)
      t.match(next, { status: 503 }, 'the stopping instance refuses it: 503, not an upgrade')
      t.notOk('dropped' in next, 'never upgraded and then dropped')
      t.equal(busy.upgrades.length, 1, 'the other instance kept its own client only')

      // Once its checks fail too, the edge stops sending it anyone.
      idle.readyStatus = 503
      await edge.waitForChat(idle.url, (s) => s.status === 'DOWN')
      const after = await connect(edge.wsUrl)
      t.match(after, { status: 101, greeting: `hello from ${busy.name}` }, 'then the other one')
      if ('socket' in after) await close(after.socket)
    },
  )

  t.test('a websocket on a keep-alive connection that began with a request', async (t) => {
    const {
      chats: [chat],
      edge,
    } = await edgeBefore(t, 'chat-a')

    // The connection was routed to the HTTP side by its first request; its upgrade still
    // reaches chat (through the relay), upgraded by it.
    const socket = netConnect(edge.port, '127.0.0.1')
    socket.setEncoding('utf8')
    let received = ''
    socket.on('data', (chunk) => {
      received += chunk
    })
    const until = async (pattern: RegExp) => {
      while (!pattern.test(received)) await once(socket, 'data')
    }
    socket.write('GET /rooms HTTP/1.1\r\nHost: edge\r\n\r\n')
    await until(/"by":"gateway"/)
    t.match(received, /^HTTP\/1\.1 200/, 'the first request is served by the gateway')
    received = ''
    socket.write(
      'GET /ws/chat?token=secret HTTP/1.1\r\nHost: edge\r\nConnection: Upgrade\r\n' +
        'Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    )
    await until(/hello from chat-a/)
    t.match(received, /^HTTP\/1\.1 101/, 'upgraded by chat on the same connection')
    t.equal(chat.upgrades[0]?.url, '/ws/chat?token=secret')
    socket.destroy()
  })

  t.test('instances are added and removed at run time', async (t) => {
    const gateway = await gatewayStub(t)
    const first = await chatStub(t, 'chat-a')
    const edge = await spawnEdge(t, { gatewayUrl: gateway.url, chatUrls: [] })

    t.match(await connect(edge.wsUrl), { status: 503 }, 'no instance yet: 503')
    await edge.addChat(first.url)
    const { socket } = await greeting(t, edge.wsUrl)
    const cut = once(socket, 'close')
    await edge.removeChat(first.url)
    await cut
    t.same(await edge.chatServers(), [], 'removed: its connections were cut, the server deleted')
    t.match(await connect(edge.wsUrl), { status: 503 })
  })
}
