import {
  type ChatEvent,
  type ClientFrame,
  checkCard,
  HISTORY_PAGE_SIZE,
  MAX_MESSAGE_LENGTH,
} from '@finchat/protocol'
import type { ChatDb } from '../db/schema.js'
import type { ChatEvents } from '../events/chat-events.js'
import {
  alreadyJoinedFrame,
  answeringMessage,
  CARD_NOT_ALLOWED,
  EMPTY_CUSTOM,
  EMPTY_MESSAGE,
  HELP,
  historyFrame,
  INTERNAL_ERROR,
  invalidCardFrame,
  invalidRoomFrame,
  listFrame,
  notJoinedFrame,
  ownMessageFrame,
  TOO_LONG,
} from '../events/frames.js'
import type { Presence } from '../presence/presence.js'
import { createJoinStatus, toHistoryMessage } from './join-status.js'
import type { Member } from './member.js'
import type { MessagesRepository } from './messages.repository.js'
import { createRoomDirectory } from './room-directory.js'
import { createRoomWriter, type RoomWriterOptions } from './room-writer.js'
import type { RoomsRepository } from './rooms.repository.js'

export interface CommandsOptions {
  db: ChatDb
  rooms: RoomsRepository
  messages: MessagesRepository
  presence: Presence
  events: ChatEvents
  log: { error(obj: object, msg: string): void; warn(obj: object, msg: string): void }
  writer?: Pick<RoomWriterOptions, 'roomLocks' | 'batchWindowMs'>
}

const codePoints = (text: string) => {
  // Most messages are short ASCII: only count code points when UTF-16 length is ambiguous.
  if (text.length <= MAX_MESSAGE_LENGTH) return text.length
  let count = 0
  for (const _ of text) count++
  return count
}

/** What each client frame does, answering the member directly and the room through the events. */
export function createCommands(options: CommandsOptions) {
  const { rooms, messages, presence, events, log } = options
  const writer = createRoomWriter({
    db: options.db,
    messages,
    events,
    log,
    ...options.writer,
  })
  const directory = createRoomDirectory(rooms)
  const joinStatus = createJoinStatus({ presence, messages, log })

  async function join(member: Member, name: string) {
    const room = await directory.find(name)
    if (!room) return member.send(invalidRoomFrame(name))
    if (member.joined.has(name)) return member.send(alreadyJoinedFrame(name))
    member.joined.set(name, { id: room.id, name })
    joinStatus.begin(member, { id: room.id, name })
    try {
      await presence.join(name, member.username)
      await events.joined(member, { id: room.id, name })
    } catch (err) {
      member.joined.delete(name)
      joinStatus.cancel(member, name)
      await presence.part(name, member.username).catch(() => {})
      throw err
    }
  }

  async function part(member: Member, name: string) {
    if (!member.joined.has(name)) return member.send(notJoinedFrame(name))
    member.joined.delete(name)
    await announcePart(member, name)
  }

  async function announcePart(member: Member, name: string) {
    await presence.part(name, member.username)
    await events.parted(member, name)
  }

  async function message(
    member: Member,
    name: string,
    text: string,
    clientId?: string,
    sentCard?: unknown,
  ) {
    const refuse = (frame: string) => member.send(answeringMessage(frame, clientId))
    const room = member.joined.get(name)
    if (!room) return refuse(notJoinedFrame(name))
    // A card looks like the bot's own answer: from anyone else it is refused, whatever it holds.
    if (sentCard !== undefined && !member.isBot) return refuse(CARD_NOT_ALLOWED)
    const checked = sentCard === undefined ? undefined : checkCard(sentCard)
    if (checked && !checked.ok) return refuse(invalidCardFrame(checked.reason))
    const card = checked?.ok ? checked.card : undefined
    // PostgreSQL text cannot hold NUL: stored as is, it would fail the insert of every message
    // written with it, other senders' too.
    const body = text.trim().replaceAll('\u0000', '\uFFFD')
    if (body === '') return refuse(EMPTY_MESSAGE)
    if (codePoints(body) > MAX_MESSAGE_LENGTH) return refuse(TOO_LONG)
    const userId = member.userId
    const posted = await writer.post({
      room,
      userId,
      username: member.username,
      body,
      clientId,
      ...(card !== undefined && { card }),
    })
    // Sent again: the sender alone sees the original once more, and the room nothing.
    if (posted.repeated) member.send(ownMessageFrame(room.name, posted.repeated, clientId))
  }

  async function custom(member: Member, name: string, rawCommand: string, payload: string) {
    if (!member.joined.has(name)) return member.send(notJoinedFrame(name))
    const command = rawCommand.trim()
    if (command === '' || payload === '') return member.send(EMPTY_CUSTOM)
    if (codePoints(command) > MAX_MESSAGE_LENGTH || codePoints(payload) > MAX_MESSAGE_LENGTH) {
      return member.send(TOO_LONG)
    }
    await events.custom(member, name, command, payload)
  }

  async function list(member: Member) {
    const all = await rooms.list()
    member.send(
      listFrame(all.map((room) => ({ name: room.name, joined: member.joined.has(room.name) }))),
    )
  }

  async function history(member: Member, frame: Extract<ClientFrame, { type: 'history' }>) {
    const room = member.joined.get(frame.room_name)
    if (!room) return member.send(notJoinedFrame(frame.room_name))
    const page = await messages.page({
      roomId: room.id,
      before: frame.before,
      after: frame.after,
      limit: frame.limit ?? HISTORY_PAGE_SIZE,
    })
    member.send(
      historyFrame(
        frame.room_name,
        page.map((m) => toHistoryMessage(m, member.username)),
      ),
    )
  }

  return {
    async handle(member: Member, frame: ClientFrame) {
      try {
        switch (frame.type) {
          case 'help':
            return member.send(HELP)
          case 'list':
            return await list(member)
          case 'join':
            return await join(member, frame.room_name)
          case 'part':
            return await part(member, frame.room_name)
          case 'history':
            return await history(member, frame)
          case 'custom':
            return await custom(member, frame.room_name, frame.command, frame.payload)
          case 'message':
            if ('body' in frame) {
              return await message(member, frame.room_name, frame.body, frame.client_id, frame.card)
            }
            return await custom(member, frame.room_name, frame.command, frame.payload)
        }
      } catch (err) {
        log.error({ err, user: member.username, frame: frame.type }, 'command failed')
        member.send(
          frame.type === 'message' && 'body' in frame
            ? answeringMessage(INTERNAL_ERROR, frame.client_id)
            : INTERNAL_ERROR,
        )
      }
    },

    /** Leaves every room of a member who is going away, announcing each parting. */
    async leaveAll(member: Member) {
      const names = [...member.joined.keys()]
      member.joined.clear()
      await Promise.all(
        names.map((name) =>
          announcePart(member, name).catch((err) => {
            log.warn({ err, user: member.username, room: name }, 'could not announce a parting')
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

export type Commands = ReturnType<typeof createCommands>
