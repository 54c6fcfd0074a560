import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import type { ConnectionLifecycle } from './connection-lifecycle.js'

export interface ChatSocketOptions {
  /** What becomes of the websocket once upgraded (`ConnectionLifecycle#open`). */
  open: ConnectionLifecycle['open']
}

const NOT_AN_UPGRADE = {
  detail: 'This endpoint speaks WebSocket: connect with an Upgrade request.',
}

/** `/ws/chat` (and `/ws/chat/`): the chat protocol over one websocket per user. */
export async function chatSocketRoutes(app: FastifyInstance, options: ChatSocketOptions) {
  /** The upgrade's HTTP response, by request, until the websocket it became is open. */
  const upgrades = new WeakMap<IncomingMessage, ServerResponse>()

  /**
   * Lets go of what the upgrade request was: @fastify/websocket leaves its response assigned to
   * the TCP socket and its own error listener (holding request and reply) on the websocket, so
   * every open connection kept the request, its headers, the token-bearing URL and the reply
   * (about 3 KiB each, in a heap snapshot). The listener only logged and terminated the socket,
   * which `ws` does itself on an error; the connection's own logs.
   */
  function forgetUpgrade(socket: WebSocket, request: FastifyRequest) {
    socket.removeAllListeners('error')
    upgrades.get(request.raw)?.detachSocket(request.raw.socket)
    upgrades.delete(request.raw)
  }

  for (const url of ['/ws/chat', '/ws/chat/']) {
    app.route({
      method: 'GET',
      url,
      handler: async (_request, reply) => reply.code(400).send(NOT_AN_UPGRADE),
      onRequest: (request, reply, done) => {
        if (request.ws) upgrades.set(request.raw, reply.raw)
        done()
      },
      wsHandler: (socket, request) => {
        forgetUpgrade(socket, request)
        options.open(socket, request).catch((err) => {
          request.log.error({ err }, 'websocket setup failed')
          socket.close(1011, 'internal error')
        })
      },
    })
  }
}
