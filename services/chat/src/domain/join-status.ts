import {
  type ChatEvent,
  formatStamp,
  HISTORY_PAGE_SIZE,
  type HistoryMessage,
  type RoomStatus,
} from '@finchat/protocol'
import { type Presence, sortByCodePoint } from '../presence/presence.js'
import type { Member } from './member.js'
import type { MessagesRepository, StoredMessage } from './messages.repository.js'

export interface JoinStatusOptions {
  presence: Presence
  messages: MessagesRepository
  log: { error(obj: object, msg: string): void }
  /** Room events a watch keeps before it gives up and the status is read afresh on the echo. */
  maxWatchedEvents?: number
}

type RoomChange = Extract<ChatEvent, { type: 'room.joined' | 'room.parted' | 'room.message' }>

interface Watch {
  room: string
  /** This room's changes dispatched since the reads started, in stream order. */
  changes: RoomChange[]
  overflowed: boolean
  reads?: Promise<[string[], StoredMessage[]]>
}

export function toHistoryMessage(message: StoredMessage, viewer: string): HistoryMessage {
  const entry: HistoryMessage = {
    id: message.id,
    stamp: formatStamp(message.created_at),
    user: message.username,
    you: message.username === viewer,
    body: message.body,
  }
  if (message.card !== undefined) entry.card = message.card
  return entry
}

/**
 * A joiner's view of the room (members and the last page of history) as of its `joined` in
 * the stream. Reading it only once the `joined` comes back would put two more round trips
 * behind the join's own; instead the reads start with the join, and the room's events that
 * this instance dispatches until the echo are applied to what they return. Every event after
 * the reads began is dispatched after they began (a message is stored before it is announced,
 * a member recorded before its join is), so together they make the state at the echo.
 */
export function createJoinStatus(options: JoinStatusOptions) {
  const { presence, messages, log } = options
  const maxWatchedEvents = options.maxWatchedEvents ?? 1000
  const watching = new Map<string, Set<Watch>>()
  const pending = new WeakMap<Member, Map<string, Watch>>()

  function read(room: { id: number; name: string }): Promise<[string[], StoredMessage[]]> {
    // A failing part is left empty rather than the whole status withheld.
    return Promise.all([
      presence.members(room.name).catch((err): string[] => {
        log.error({ err, room: room.name }, 'could not read a room membership')
        return []
      }),
      messages.page({ roomId: room.id, limit: HISTORY_PAGE_SIZE }).catch((err) => {
        log.error({ err, room: room.name }, 'could not read a room history')
        return []
      }),
    ])
  }

  function unwatch(watch: Watch) {
    const watches = watching.get(watch.room)
    watches?.delete(watch)
    if (watches?.size === 0) watching.delete(watch.room)
  }

  function take(member: Member, room: string): Watch | undefined {
    const watch = pending.get(member)?.get(room)
    if (!watch) return undefined
    pending.get(member)?.delete(room)
    unwatch(watch)
    return watch
  }

  function statusOf(
    viewer: string,
    [members, recent]: [string[], StoredMessage[]],
    changes: RoomChange[],
  ): RoomStatus {
    const users = new Set(members)
    const newest = recent[0]?.id ?? 0
    const later: HistoryMessage[] = []
    for (const change of changes) {
      if (change.type === 'room.joined') users.add(change.user)
      else if (change.type === 'room.parted') users.delete(change.user)
      else if (change.id > newest) {
        const entry: HistoryMessage = {
          id: change.id,
          stamp: change.stamp,
          user: change.user,
          you: change.user === viewer,
          body: change.body,
        }
        if (change.card !== undefined) entry.card = change.card
        later.push(entry)
      }
    }
    users.add(viewer)
    const history = [
      ...later.reverse(),
      ...recent.map((message) => toHistoryMessage(message, viewer)),
    ]
    return {
      users: sortByCodePoint(users).map((name) => ({ name, you: name === viewer })),
      messages: history.slice(0, HISTORY_PAGE_SIZE),
    }
  }

  return {
    /** Starts reading the room for a join about to be published by this member. */
    begin(member: Member, room: { id: number; name: string }) {
      const watch: Watch = { room: room.name, changes: [], overflowed: false }
      const watches = watching.get(room.name) ?? new Set()
      watches.add(watch)
      watching.set(room.name, watches)
      const joins = pending.get(member) ?? new Map<string, Watch>()
      joins.set(room.name, watch)
      pending.set(member, joins)
      // Sent once watching, so that nothing they miss goes unseen.
      watch.reads = read(room)
    },

    /** The join was not published, or the member is going: nothing to wait for. */
    cancel(member: Member, room: string) {
      take(member, room)
    },

    /** Every room event, in stream order, before it is dispatched. */
    observe(event: ChatEvent) {
      if (event.type === 'room.deleted' || event.type === 'room.custom') return
      const watches = watching.get(event.room)
      if (!watches) return
      for (const watch of watches) {
        if (watch.overflowed) continue
        watch.changes.push(event)
        if (watch.changes.length > maxWatchedEvents) {
          watch.overflowed = true
          watch.changes = []
        }
      }
    },

    /**
     * The status for the joiner's own `joined`, called as it is dispatched: what the room's
     * events up to here changed is taken now, the reads are awaited after.
     */
    statusFor(member: Member, room: { id: number; name: string }): Promise<RoomStatus> {
      const watch = take(member, room.name)
      const viewer = member.username
      if (!watch?.reads || watch.overflowed) {
        return read(room).then((state) => statusOf(viewer, state, []))
      }
      const { changes } = watch
      return watch.reads.then((state) => statusOf(viewer, state, changes))
    },
  }
}

export type JoinStatus = ReturnType<typeof createJoinStatus>
