import {
  type Card,
  compareCodePoints,
  type HistoryMessage,
  type MessageFrame,
  type ServerFrame,
} from '@finchat/protocol'

/** One line of a room's scroll-back, as the room view shows it. */
export type Line =
  | {
      kind: 'message'
      id: number
      user: string
      body: string
      stamp: string
      you: boolean
      /** A bot's card, drawn beside the text (which says the same, for screen readers). */
      card?: Card
    }
  | { kind: 'joined' | 'parted'; user: string; stamp: string; you: boolean }
  | { kind: 'custom'; user: string; command: string; payload: string; stamp: string; you: boolean }

export interface Room {
  name: string
  /** The user is a member (or is becoming one again after a reconnection). */
  joined: boolean
  users: string[]
  lines: Line[]
  /** Messages and commands that arrived while another view was open. */
  unread: number
  /** The newest message id seen, to fill the gap after a reconnection. */
  lastId: number
}

export interface LogLine {
  at: number
  text: string
  level: 'info' | 'error'
}

export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting' | 'closed'

/** Why the chat cannot go on by itself: the view explains it and offers a way forward. */
export type Fatal = 'already-chatting' | 'not-authenticated' | 'logged-out'

export const SERVER_LOGS = '' as const

/**
 * A message sent, with the name (`client_id`) the server knows it by, that got neither its echo
 * nor an error yet. The connection may have dropped before either came: it is sent again after
 * the reconnection, and the server answers a message it already stored with its echo.
 */
export interface Unanswered {
  client_id: string
  room_name: string
  body: string
}

export interface ChatState {
  rooms: Record<string, Room>
  /** Messages sent and not answered yet, oldest first. */
  unanswered: Unanswered[]
  /** Room names in code-point order, as the server lists them. */
  names: string[]
  /** The open view: a room name, or SERVER_LOGS. */
  active: string
  logs: LogLine[]
  connection: ConnectionStatus
  fatal?: Fatal
}

export type ChatAction =
  | { type: 'frame'; frame: ServerFrame; at?: number }
  | { type: 'open'; view: string }
  | { type: 'connection'; status: ConnectionStatus }
  | { type: 'log'; text: string; level?: LogLine['level']; at?: number }
  | { type: 'sent'; message: Unanswered }

const MAX_LINES = 1000
const MAX_LOGS = 200
/** Beyond this many, the oldest unanswered message is given up. */
const MAX_UNANSWERED = 100

export const initialChatState: ChatState = {
  rooms: {},
  unanswered: [],
  names: [],
  active: SERVER_LOGS,
  logs: [],
  connection: 'connecting',
}

/** Rooms to join again after a reconnection, and the message id each one last saw. */
export function roomsToRejoin(state: ChatState): Array<{ name: string; lastId: number }> {
  return Object.values(state.rooms)
    .filter((room) => room.joined)
    .map((room) => ({ name: room.name, lastId: room.lastId }))
}

/** The message frame for `body`, named so that sending it again is safe. */
export function messageFrame(room: string, body: string, clientId: string): MessageFrame {
  return { type: 'message', room_name: room, body, client_id: clientId }
}

/** What to send again after a reconnection, once its rooms are joined again: the unanswered. */
export function toResend(state: ChatState): MessageFrame[] {
  return state.unanswered
    .filter((message) => state.rooms[message.room_name]?.joined)
    .map((message) => messageFrame(message.room_name, message.body, message.client_id))
}

export function reduceChat(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case 'open': {
      const room = state.rooms[action.view]
      const rooms = room ? { ...state.rooms, [room.name]: { ...room, unread: 0 } } : state.rooms
      return { ...state, active: action.view, rooms }
    }
    case 'connection':
      return {
        ...state,
        connection: action.status,
        fatal: action.status === 'open' ? undefined : state.fatal,
      }
    case 'log':
      return log(state, action.text, action.level ?? 'info', action.at)
    case 'frame':
      return onFrame(answered(state, action.frame), action.frame, action.at ?? Date.now())
    case 'sent': {
      const kept = state.unanswered.slice(-(MAX_UNANSWERED - 1))
      return { ...state, unanswered: [...kept, action.message] }
    }
  }
}

/** Forgets the unanswered messages `frame` answers: its own echo, an error, leaving the room. */
function answered(state: ChatState, frame: ServerFrame): ChatState {
  if (state.unanswered.length === 0) return state
  let done: (message: Unanswered) => boolean
  if (frame.type === 'error' && 'client_id' in frame && frame.client_id !== undefined) {
    done = (message) => message.client_id === frame.client_id
  } else if (frame.type === 'room:notification' && frame.code === 'message' && frame.you) {
    done = (message) => message.client_id === frame.client_id
  } else if (frame.type === 'room:notification' && frame.code === 'parted' && frame.you) {
    done = (message) => message.room_name === frame.room_name
  } else {
    return state
  }
  const unanswered = state.unanswered.filter((message) => !done(message))
  return unanswered.length === state.unanswered.length ? state : { ...state, unanswered }
}

function onFrame(state: ChatState, frame: ServerFrame, at: number): ChatState {
  switch (frame.type) {
    case 'fatal':
      return log({ ...state, fatal: frame.code }, describeFatal(frame.code), 'error', at)
    case 'error': {
      const details = 'details' in frame ? ` ${JSON.stringify(frame.details)}` : ''
      return log(state, `error: ${frame.code}${details}`, 'error', at)
    }
    case 'notification':
      switch (frame.code) {
        case 'list':
          return withList(state, frame.list)
        case 'logged-out':
          return log({ ...state, fatal: 'logged-out' }, 'You were logged out.', 'error', at)
        case 'history':
          return updateRoom(state, frame.room_name, (room) => withMessages(room, frame.messages))
        default:
          return log(
            state,
            'help' in frame ? frame.help : 'content' in frame ? frame.content : '',
            'info',
            at,
          )
      }
    case 'room:notification':
      return onRoomEvent(state, frame)
  }
}

function onRoomEvent(
  state: ChatState,
  frame: Extract<ServerFrame, { type: 'room:notification' }>,
): ChatState {
  const name = frame.room_name
  const next = updateRoom(state, name, (room) => {
    switch (frame.code) {
      case 'joined': {
        const line: Line = { kind: 'joined', user: frame.user, stamp: frame.stamp, you: frame.you }
        if (frame.you && frame.status) {
          const users = frame.status.users.map((user) => user.name)
          // A first join shows the history; a rejoin appends only what was missed.
          return append({ ...withMessages(room, frame.status.messages), joined: true, users }, line)
        }
        return append({ ...room, users: withUser(room.users, frame.user) }, line)
      }
      case 'parted': {
        const line: Line = { kind: 'parted', user: frame.user, stamp: frame.stamp, you: frame.you }
        if (frame.you) return append({ ...room, joined: false, users: [] }, line)
        return append({ ...room, users: room.users.filter((user) => user !== frame.user) }, line)
      }
      case 'message': {
        if (frame.id <= room.lastId) return room
        const line: Line = {
          kind: 'message',
          id: frame.id,
          user: frame.user,
          body: frame.body,
          stamp: frame.stamp,
          you: frame.you,
          ...(frame.card ? { card: frame.card } : {}),
        }
        return { ...append(room, line), lastId: frame.id }
      }
      case 'custom': {
        const { user, command, payload, stamp, you } = frame
        return append(room, { kind: 'custom', user, command, payload, stamp, you })
      }
    }
  })
  const counts = frame.code === 'message' || frame.code === 'custom'
  const grew = next.rooms[name]?.lines.length !== state.rooms[name]?.lines.length
  if (!counts || !grew || next.active === name || frame.you) return next
  const room = next.rooms[name] as Room
  return { ...next, rooms: { ...next.rooms, [name]: { ...room, unread: room.unread + 1 } } }
}

function withList(state: ChatState, list: Array<{ name: string; joined: boolean }>): ChatState {
  const rooms: Record<string, Room> = {}
  for (const entry of list) {
    const known = state.rooms[entry.name]
    rooms[entry.name] = known
      ? { ...known, joined: entry.joined || known.joined }
      : newRoom(entry.name)
  }
  // Rooms deleted since the last list go; their scroll-back with them.
  const active = state.active in rooms ? state.active : SERVER_LOGS
  return { ...state, rooms, names: list.map((entry) => entry.name), active }
}

/** Merges stored messages (any order), skipping what the room already shows. */
function withMessages(room: Room, messages: HistoryMessage[]): Room {
  const fresh = messages.filter((message) => message.id > room.lastId).sort((a, b) => a.id - b.id)
  let next = room
  for (const message of fresh) {
    const { id, user, body, stamp, you, card } = message
    const line: Line = { kind: 'message', id, user, body, stamp, you, ...(card ? { card } : {}) }
    next = { ...append(next, line), lastId: id }
  }
  return next
}

function updateRoom(state: ChatState, name: string, change: (room: Room) => Room): ChatState {
  const room = state.rooms[name] ?? newRoom(name)
  const names = state.names.includes(name)
    ? state.names
    : [...state.names, name].sort(compareCodePoints)
  return { ...state, names, rooms: { ...state.rooms, [name]: change(room) } }
}

function newRoom(name: string): Room {
  return { name, joined: false, users: [], lines: [], unread: 0, lastId: 0 }
}

function append(room: Room, line: Line): Room {
  const lines = room.lines.length >= MAX_LINES ? room.lines.slice(1) : room.lines
  return { ...room, lines: [...lines, line] }
}

function withUser(users: string[], user: string): string[] {
  return users.includes(user) ? users : [...users, user].sort(compareCodePoints)
}

function log(state: ChatState, text: string, level: LogLine['level'], at = Date.now()): ChatState {
  const logs = state.logs.length >= MAX_LOGS ? state.logs.slice(1) : state.logs
  return { ...state, logs: [...logs, { at, text, level }] }
}

function describeFatal(code: Fatal): string {
  if (code === 'already-chatting') return 'You are already chatting in another window or device.'
  return 'The server did not accept your session.'
}
