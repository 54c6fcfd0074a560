import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { WebSocket, WebSocketServer } from 'ws'

/**
 * The ceiling every figure is compared with: one process, rooms in memory, connect (token in
 * the query, not checked), join and message broadcast, nothing stored. Each event is
 * serialized once per variant (`you` true or false) and the same bytes go to every recipient,
 * and what one turn of the event loop sends a recipient goes out in one write, as chat does
 * (cork, then uncork once the turn's reads are handled): a server that wrote each frame on its
 * own would be measuring the kernel's per-call cost, not what a server must do.
 */
export async function startBaselineServer(port = 0) {
  const rooms = new Map<string, Set<WebSocket>>()
  const names = new WeakMap<WebSocket, string>()
  let nextId = 0
  const corked = new Set<Socket>()
  const uncorkAll = () => {
    for (const raw of corked) raw.uncork()
    corked.clear()
  }
  const sendInTurn = (member: WebSocket, data: string) => {
    const raw = (member as unknown as { _socket: Socket })._socket
    if (!corked.has(raw)) {
      if (corked.size === 0) setImmediate(uncorkAll)
      corked.add(raw)
      raw.cork()
    }
    member.send(data)
  }
  const server = createServer((_req, res) => res.writeHead(404).end())
  const wss = new WebSocketServer({ server, path: '/ws/chat' })
  wss.on('connection', (socket, request) => {
    const user = new URL(request.url ?? '/', 'http://x').searchParams.get('token') ?? 'anonymous'
    names.set(socket, user)
    socket.send(JSON.stringify({ type: 'notification', code: 'api-motd', content: 'baseline' }))
    socket.on('message', (data) => {
      let frame: { type?: string; room_name?: string; body?: string }
      try {
        frame = JSON.parse(String(data))
      } catch {
        return
      }
      const room = frame.room_name ?? ''
      if (frame.type === 'join') {
        const members = rooms.get(room) ?? new Set<WebSocket>()
        rooms.set(room, members)
        members.add(socket)
        const stamp = new Date().toISOString().slice(0, 19).replace('T', ' ')
        const users = [...members].map((m) => ({ name: names.get(m), you: m === socket }))
        socket.send(
          JSON.stringify({
            type: 'room:notification',
            code: 'joined',
            you: true,
            user,
            room_name: room,
            stamp,
            status: { users, messages: [] },
          }),
        )
      } else if (frame.type === 'message' && typeof frame.body === 'string') {
        const members = rooms.get(room)
        if (!members?.has(socket)) return
        const event = {
          type: 'room:notification',
          code: 'message',
          id: ++nextId,
          user,
          room_name: room,
          body: frame.body,
          stamp: new Date().toISOString().slice(0, 19).replace('T', ' '),
        }
        const mine = JSON.stringify({ ...event, you: true })
        const theirs = JSON.stringify({ ...event, you: false })
        for (const member of members) {
          if (member.readyState === WebSocket.OPEN)
            sendInTurn(member, member === socket ? mine : theirs)
        }
      }
    })
    socket.on('close', () => {
      for (const members of rooms.values()) members.delete(socket)
    })
  })
  server.listen(port, '127.0.0.1')
  await once(server, 'listening')
  return {
    wsUrl: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws/chat`,
    async close() {
      for (const client of wss.clients) client.terminate()
      wss.close()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
