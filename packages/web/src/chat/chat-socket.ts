import type { ClientFrame, ServerFrame } from '@finchat/protocol'
import type { ConnectionStatus } from './chat-state.js'

export interface ChatSocketOptions {
  url: string
  onFrame(frame: ServerFrame): void
  onStatus(status: ConnectionStatus, retryInMs?: number): void
  /** Runs on every (re)connection, before anything else is sent. */
  onOpen(send: (frame: ClientFrame) => void): void
}

export interface ChatSocket {
  send(frame: ClientFrame): boolean
  /** Reconnects now instead of waiting for the backoff (or after a fatal answer). */
  retry(): void
  close(): void
}

const MIN_DELAY_MS = 500
const MAX_DELAY_MS = 15_000

/**
 * The web UI's websocket (authenticated by the session cookie). It reconnects with growing,
 * jittered delays when the connection drops, and stops after a `fatal` answer or a logout,
 * which reconnecting would not cure.
 */
export function openChatSocket(options: ChatSocketOptions): ChatSocket {
  let socket: WebSocket | undefined
  let attempt = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  let stopped = false
  let final = false

  function connect() {
    clearTimeout(timer)
    final = false
    options.onStatus(attempt === 0 ? 'connecting' : 'reconnecting')
    const current = new WebSocket(options.url)
    socket = current
    current.onopen = () => {
      attempt = 0
      options.onStatus('open')
      options.onOpen((frame) => current.send(JSON.stringify(frame)))
    }
    current.onmessage = (event) => {
      let frame: ServerFrame
      try {
        frame = JSON.parse(String(event.data))
      } catch {
        return
      }
      if (
        frame.type === 'fatal' ||
        (frame.type === 'notification' && frame.code === 'logged-out')
      ) {
        final = true
      }
      options.onFrame(frame)
    }
    current.onclose = () => {
      if (socket !== current || stopped) return
      if (final) {
        options.onStatus('closed')
        return
      }
      const ceiling = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** attempt++)
      const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2))
      options.onStatus('reconnecting', delay)
      timer = setTimeout(connect, delay)
    }
  }

  connect()
  return {
    send(frame) {
      if (socket?.readyState !== WebSocket.OPEN) return false
      socket.send(JSON.stringify(frame))
      return true
    },
    retry() {
      attempt = 0
      socket?.close()
      connect()
    },
    close() {
      stopped = true
      clearTimeout(timer)
      socket?.close(1000)
    },
  }
}

export function chatSocketUrl(location: Location): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/chat`
}

/**
 * A fresh `client_id` for a message. `crypto.randomUUID` exists only in secure contexts (HTTPS,
 * localhost); a page served over plain HTTP gets as many random bits from getRandomValues.
 */
export function newClientId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')
}
