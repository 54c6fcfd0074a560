import type { Bus } from '@finchat/bus'
import {
  type ChatEvent,
  type ClientFrame,
  type CustomCommand,
  ErrorCode,
  type ErrorFrame,
  formatStamp,
  HELP_TEXT,
  HISTORY_PAGE_SIZE,
  MAX_MESSAGE_LENGTH,
  STREAMS,
} from '@finchat/protocol'
import type { ChatDb } from '../db/schema.js'
import type { MessagesRepository } from '../messages/messages.repository.js'
import { createRoomWriter } from '../messages/room-writer.js'
import type { Presence } from '../presence/presence.js'
import { createJoinStatus, toHistoryMessage } from '../rooms/join-status.js'
import { createRoomDirectory } from '../rooms/room-directory.js'
import type { RoomsRepository } from '../rooms/rooms.repository.js'
import type { ChatConnection } from './chat-connection.js'

export interface CommandHandlerOptions {
  instanceId: string
  db: ChatDb
  rooms: RoomsRepository
  messages: MessagesRepository
  presence: Presence
  bus: Bus
  clock: () => Date
  log: { error(obj: object, msg: string): void; warn(obj: object, msg: string): void }
}

const codePoints = (text: string) => {
  // Most messages are short ASCII: only count code points when UTF-16 length is ambiguous.
  if (text.length <= MAX_MESSAGE_LENGTH) return text.length
  let count = 0
  for (const _ of text) count++
  return count
}

const error = (frame: ErrorFrame) => JSON.stringify(frame)
const notJoined = (name: string) =>
  error({ type: 'error', code: ErrorCode.notJoined, details: { name } })
const INTERNAL_ERROR = error({ type: 'error', code: ErrorCode.internalError })
const EMPTY_MESSAGE = error({ type: 'error', code: ErrorCode.emptyMessage })
const EMPTY_CUSTOM = error({ type: 'error', code: ErrorCode.emptyCustom })
const TOO_LONG = error({
  type: 'error',
  code: ErrorCode.messageTooLong,
  details: { max: MAX_MESSAGE_LENGTH },
})
const HELP = JSON.stringify({ type: 'notification', code: 'help', help: HELP_TEXT })

/** What each client frame does, answering the sender directly and the room through the bus. */
export function createCommandHandler(options: CommandHandlerOptions) {
  const { rooms, messages, presence, bus, instanceId, clock, log } = options
  const writer = createRoomWriter({ db: options.db, messages, bus, instanceId, log })
  const directory = createRoomDirectory(rooms)
  const joinStatus = createJoinStatus({ presence, messages, log })
  const publish = (event: ChatEvent) => bus.append(STREAMS.chatEvents, event)

  async function join(connection: ChatConnection, name: string) {
    const room = await directory.find(name)
    if (!room) {
      return connection.send(
        error({ type: 'error', code: ErrorCode.invalidRoom, details: { name } }),
      )
    }
    if (connection.joined.has(name)) {
      return connection.send(
        error({ type: 'error', code: ErrorCode.alreadyJoined, details: { name } }),
      )
    }
    connection.joined.set(name, { id: room.id, name })
    joinStatus.begin(connection, { id: room.id, name })
    try {
      await presence.join(name, connection.username)
      await publish({
        type: 'room.joined',
        room: name,
        room_id: room.id,
        user: connection.username,
        stamp: formatStamp(clock()),
        instance: instanceId,
        connection: connection.id,
      })
    } catch (err) {
      connection.joined.delete(name)
      joinStatus.cancel(connection, name)
      await presence.part(name, connection.username).catch(() => {})
      throw err
    }
  }

  async function part(connection: ChatConnection, name: string) {
    if (!connection.joined.has(name)) return connection.send(notJoined(name))
    connection.joined.delete(name)
    await announcePart(connection, name)
  }

  async function announcePart(connection: ChatConnection, name: string) {
    await presence.part(name, connection.username)
    await publish({
      type: 'room.parted',
      room: name,
      user: connection.username,
      stamp: formatStamp(clock()),
      instance: instanceId,
      connection: connection.id,
    })
  }

  async function message(connection: ChatConnection, name: string, text: string) {
    const room = connection.joined.get(name)
    if (!room) return connection.send(notJoined(name))
    // PostgreSQL text cannot hold NUL: stored as is, it would fail the insert of every message
    // written with it, other senders' too.
    const body = text.trim().replaceAll('\u0000', '\uFFFD')
    if (body === '') return connection.send(EMPTY_MESSAGE)
    if (codePoints(body) > MAX_MESSAGE_LENGTH) return connection.send(TOO_LONG)
    await writer.post({
      room,
      userId: connection.session.userId,
      username: connection.username,
      body,
    })
  }

  async function custom(
    connection: ChatConnection,
    name: string,
    rawCommand: string,
    payload: string,
  ) {
    if (!connection.joined.has(name)) return connection.send(notJoined(name))
    const command = rawCommand.trim()
    if (command === '' || payload === '') return connection.send(EMPTY_CUSTOM)
    if (codePoints(command) > MAX_MESSAGE_LENGTH || codePoints(payload) > MAX_MESSAGE_LENGTH) {
      return connection.send(TOO_LONG)
    }
    const now = clock()
    const stamp = formatStamp(now)
    await publish({
      type: 'room.custom',
      room: name,
      user: connection.username,
      command,
      payload,
      stamp,
      instance: instanceId,
    })
    const forBots: CustomCommand = {
      type: 'command.custom',
      room: name,
      user: connection.username,
      command,
      payload,
      stamp,
      at_ms: now.getTime(),
    }
    await bus.append(STREAMS.chatCommands, forBots)
  }

  async function list(connection: ChatConnection) {
    const all = await rooms.list()
    connection.send(
      JSON.stringify({
        type: 'notification',
        code: 'list',
        list: all.map((room) => ({ name: room.name, joined: connection.joined.has(room.name) })),
      }),
    )
  }

  async function history(
    connection: ChatConnection,
    frame: Extract<ClientFrame, { type: 'history' }>,
  ) {
    const room = connection.joined.get(frame.room_name)
    if (!room) return connection.send(notJoined(frame.room_name))
    const page = await messages.page({
      roomId: room.id,
      before: frame.before,
      after: frame.after,
      limit: frame.limit ?? HISTORY_PAGE_SIZE,
    })
    connection.send(
      JSON.stringify({
        type: 'notification',
        code: 'history',
        room_name: frame.room_name,
        messages: page.map((m) => toHistoryMessage(m, connection.username)),
      }),
    )
  }

  return {
    async handle(connection: ChatConnection, frame: ClientFrame) {
      try {
        switch (frame.type) {
          case 'help':
            return connection.send(HELP)
          case 'list':
            return await list(connection)
          case 'join':
            return await join(connection, frame.room_name)
          case 'part':
            return await part(connection, frame.room_name)
          case 'history':
            return await history(connection, frame)
          case 'custom':
            return await custom(connection, frame.room_name, frame.command, frame.payload)
          case 'message':
            if ('body' in frame) return await message(connection, frame.room_name, frame.body)
            return await custom(connection, frame.room_name, frame.command, frame.payload)
        }
      } catch (err) {
        log.error({ err, user: connection.username, frame: frame.type }, 'command failed')
        connection.send(INTERNAL_ERROR)
      }
    },

    /** Leaves every room of a connection that is going away, announcing each parting. */
    async leaveAll(connection: ChatConnection) {
      const names = [...connection.joined.keys()]
      connection.joined.clear()
      await Promise.all(
        names.map((name) =>
          announcePart(connection, name).catch((err) => {
            log.warn({ err, user: connection.username, room: name }, 'could not announce a parting')
          }),
        ),
      )
    },

    /** The joiner's view of the room, for its own `joined`. */
    statusFor: joinStatus.statusFor,

    /** Every room event, in stream order, before it is dispatched to this instance's clients. */
    observe(event: ChatEvent) {
      if (event.type === 'room.deleted') directory.forget(event.room)
      joinStatus.observe(event)
    },
  }
}

export type CommandHandler = ReturnType<typeof createCommandHandler>
