import type { ProfileResponse } from '@finchat/protocol'
import { useEffect, useReducer, useRef, useState } from 'preact/hooks'
import { type ChatSocket, chatSocketUrl, newClientId, openChatSocket } from '../chat/chat-socket.js'
import {
  type ChatState,
  initialChatState,
  type Line,
  messageFrame,
  type Room,
  reduceChat,
  roomsToRejoin,
  SERVER_LOGS,
  toResend,
} from '../chat/chat-state.js'
import { CardView } from './quote-card-view.js'

const COMMAND = /^\/([^=\s]+)=([\s\S]*)$/

interface ChatViewProps {
  profile: ProfileResponse
  onLogOut(): void
  /** A lost device, a shared computer: every session of the user ends. */
  onLogOutEverywhere(): void
  onSessionEnded(): void
}

/** The IRC-like chat: rooms on the side, the open room (or the server logs) in the middle. */
export function ChatView(props: ChatViewProps) {
  const [state, dispatch] = useReducer(reduceChat, initialChatState)
  const [retryIn, setRetryIn] = useState<number | undefined>()
  const latest = useRef<ChatState>(state)
  latest.current = state
  const socket = useRef<ChatSocket>()

  useEffect(() => {
    const opened = openChatSocket({
      url: chatSocketUrl(location),
      onFrame: (frame) => dispatch({ type: 'frame', frame }),
      onStatus: (status, delay) => {
        setRetryIn(delay)
        dispatch({ type: 'connection', status })
      },
      onOpen: (send) => {
        send({ type: 'list' })
        // Back in the rooms the user was in; `after` fills what was missed while away.
        for (const room of roomsToRejoin(latest.current)) {
          send({ type: 'join', room_name: room.name })
          if (room.lastId > 0) send({ type: 'history', room_name: room.name, after: room.lastId })
        }
        // Then what got no answer before the connection dropped: stored already, the server
        // answers with its echo (the id de-duplicates it), else it is stored now.
        for (const frame of toResend(latest.current)) send(frame)
      },
    })
    socket.current = opened
    return () => opened.close()
  }, [])

  const send = socket.current?.send ?? (() => false)
  const say = (room: string, body: string) => {
    const clientId = newClientId()
    if (!send(messageFrame(room, body, clientId))) return false
    dispatch({ type: 'sent', message: { client_id: clientId, room_name: room, body } })
    return true
  }
  const open = (view: string) => {
    dispatch({ type: 'open', view })
    const room = latest.current.rooms[view]
    if (room && !room.joined) send({ type: 'join', room_name: view })
  }
  const active = state.rooms[state.active]

  return (
    <div class="chat">
      <header class="topbar">
        <h1>Financial Chat</h1>
        <span class="me">{props.profile.username}</span>
        {props.profile.is_admin && (
          <a class="button secondary" href="#admin">
            Admin
          </a>
        )}
        <button type="button" class="secondary" onClick={props.onLogOut}>
          Log out
        </button>
        <button type="button" class="secondary" onClick={props.onLogOutEverywhere}>
          Log out everywhere
        </button>
      </header>
      <ConnectionBanner
        state={state}
        retryIn={retryIn}
        onRetry={() => socket.current?.retry()}
        onSessionEnded={props.onSessionEnded}
      />
      <nav class="sidebar" aria-label="Rooms">
        <button
          type="button"
          class={state.active === SERVER_LOGS ? 'view current' : 'view'}
          aria-current={state.active === SERVER_LOGS ? 'page' : undefined}
          onClick={() => dispatch({ type: 'open', view: SERVER_LOGS })}
        >
          Server Logs
        </button>
        <button type="button" class="secondary" onClick={() => send({ type: 'list' })}>
          Refresh rooms
        </button>
        <ul>
          {state.names.map((name) => (
            <RoomLink
              key={name}
              room={state.rooms[name] as Room}
              current={state.active === name}
              onOpen={open}
            />
          ))}
        </ul>
      </nav>
      {active ? <RoomView room={active} send={send} say={say} /> : <ServerLogs state={state} />}
    </div>
  )
}

function RoomLink(props: { room: Room; current: boolean; onOpen(name: string): void }) {
  const { room } = props
  return (
    <li>
      <button
        type="button"
        class={`view${props.current ? ' current' : ''}${room.joined ? ' joined' : ''}`}
        aria-current={props.current ? 'page' : undefined}
        onClick={() => props.onOpen(room.name)}
      >
        <span class="room-name">#{room.name}</span>
        {room.joined && <span class="sr-only"> (joined)</span>}
        {room.unread > 0 && (
          <span class="unread">
            {room.unread}
            <span class="sr-only"> unread</span>
          </span>
        )}
      </button>
    </li>
  )
}

function RoomView(props: {
  room: Room
  send: (frame: Parameters<ChatSocket['send']>[0]) => boolean
  /** Sends a message, named so that it can be sent again after a reconnection. */
  say: (room: string, body: string) => boolean
}) {
  const { room, send, say } = props
  const input = useRef<HTMLInputElement>(null)
  const scroller = useRef<HTMLDivElement>(null)
  useEffect(() => input.current?.focus(), [room.name])
  useEffect(() => {
    const list = scroller.current
    if (list) list.scrollTop = list.scrollHeight
  }, [room.lines.length, room.name])

  function submit(event: Event) {
    event.preventDefault()
    const field = input.current
    const text = field?.value ?? ''
    if (!field || text.trim() === '') return
    const command = COMMAND.exec(text.trim())
    const sent = command
      ? send({
          type: 'custom',
          room_name: room.name,
          command: command[1] as string,
          payload: command[2] as string,
        })
      : say(room.name, text)
    if (sent) field.value = ''
  }

  return (
    <main class="room" aria-labelledby="room-title">
      <header class="room-header">
        <h2 id="room-title">#{room.name}</h2>
        {room.joined ? (
          <button
            type="button"
            class="secondary"
            onClick={() => send({ type: 'part', room_name: room.name })}
          >
            Leave
          </button>
        ) : (
          <button type="button" onClick={() => send({ type: 'join', room_name: room.name })}>
            Join
          </button>
        )}
      </header>
      {/* The log wraps the list: a list given the log role would leave its items outside a list. */}
      <div
        class="lines"
        role="log"
        aria-live="polite"
        aria-label={`Messages in ${room.name}`}
        ref={scroller}
      >
        <ol>
          {room.lines.map((line, index) => (
            <LineView key={line.kind === 'message' ? `m${line.id}` : `l${index}`} line={line} />
          ))}
        </ol>
      </div>
      <aside class="users" aria-label="Users">
        <h3>Users ({room.users.length})</h3>
        <ul>
          {room.users.map((user) => (
            <li key={user}>{user}</li>
          ))}
        </ul>
      </aside>
      <form class="message-bar" onSubmit={submit}>
        <label for="message" class="sr-only">
          Message
        </label>
        <input
          id="message"
          ref={input}
          autocomplete="off"
          disabled={!room.joined}
          placeholder={room.joined ? 'Message, or /stock=aapl.us' : 'Join the room to write'}
        />
        <button type="submit" disabled={!room.joined}>
          Send
        </button>
      </form>
    </main>
  )
}

function LineView(props: { line: Line }) {
  const { line } = props
  const time = <time dateTime={`${line.stamp.replace(' ', 'T')}Z`}>{line.stamp.slice(11, 16)}</time>
  switch (line.kind) {
    case 'message':
      return (
        <li class={`line message${line.you ? ' own' : ''}${line.card ? ' with-card' : ''}`}>
          {time} <strong class="author">{line.user}</strong>{' '}
          {/* With a card, the text (which says the same) is for screen readers; the card for eyes. */}
          <span class={line.card ? 'body sr-only' : 'body'}>{line.body}</span>
          {line.card && <CardView card={line.card} />}
        </li>
      )
    case 'custom':
      return (
        <li class="line custom">
          {time} <strong class="author">{line.user}</strong>{' '}
          <span class="body">
            /{line.command}={line.payload}
          </span>
        </li>
      )
    case 'joined':
      return (
        <li class="line joined">
          {time} <span class="body">{line.you ? 'You joined' : `${line.user} joined`}</span>
        </li>
      )
    case 'parted':
      return (
        <li class="line parted">
          {time} <span class="body">{line.you ? 'You left' : `${line.user} left`}</span>
        </li>
      )
  }
}

function ServerLogs(props: { state: ChatState }) {
  return (
    <main class="room logs" aria-labelledby="logs-title">
      <header class="room-header">
        <h2 id="logs-title">Server Logs</h2>
      </header>
      <div class="lines" role="log" aria-label="Server logs">
        <ol>
          {props.state.logs.map((entry, index) => (
            <li key={index} class={`line ${entry.level === 'error' ? 'error' : 'info'}`}>
              <time dateTime={new Date(entry.at).toISOString()}>
                {new Date(entry.at).toLocaleTimeString()}
              </time>{' '}
              <span class="body">{entry.text}</span>
            </li>
          ))}
        </ol>
      </div>
      <p class="hint">
        Pick a room on the left to join it. Type /stock=aapl.us in a room to ask for a quote, or
        /stock=aapl.us,msft.us for up to 5.
      </p>
    </main>
  )
}

function ConnectionBanner(props: {
  state: ChatState
  retryIn?: number
  onRetry(): void
  onSessionEnded(): void
}) {
  const { fatal, connection } = props.state
  if (fatal === 'already-chatting') {
    return (
      <div class="banner error" role="alert">
        You are already chatting in another window or on another device. Close the chat there, then
        try again.{' '}
        <button type="button" onClick={props.onRetry}>
          Try again
        </button>
      </div>
    )
  }
  if (fatal) {
    return (
      <div class="banner error" role="alert">
        Your session has ended.{' '}
        <button type="button" onClick={props.onSessionEnded}>
          Log in again
        </button>
      </div>
    )
  }
  if (connection === 'reconnecting') {
    const seconds = props.retryIn ? Math.ceil(props.retryIn / 1000) : undefined
    return (
      <div class="banner warning" role="status">
        Connection lost. {seconds ? `Reconnecting in ${seconds} s.` : 'Reconnecting…'}{' '}
        <button type="button" class="secondary" onClick={props.onRetry}>
          Reconnect now
        </button>
      </div>
    )
  }
  return null
}
