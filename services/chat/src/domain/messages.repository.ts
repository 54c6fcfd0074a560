import { prepared } from '@finchat/db'
import type { Card } from '@finchat/protocol'
import { type Kysely, type RawBuilder, sql } from 'kysely'
import { CHAT_SCHEMA, type ChatDatabase, type ChatDb } from '../db/schema.js'

// The first key of chat's advisory locks, so they cannot collide with other users of the database.
const ROOM_LOCK_SPACE = 0x6368617

export type MessagesRepository = ReturnType<typeof createMessagesRepository>

/** The database and its messages, for those who store, announce or remove messages. */
export interface MessageStore {
  db: ChatDb
  messages: MessagesRepository
}

export interface StoredMessage {
  id: number
  username: string
  body: string
  created_at: Date
  /** Absent when the message has none, so it looks exactly as before cards. */
  card?: Card
}

export interface HistoryQuery {
  roomId: number
  before?: number
  after?: number
  limit: number
}

export interface NewMessage {
  roomId: number
  userId: number
  username: string
  body: string
  /** The sender's name for it: a message of the same room, user and name is not stored twice. */
  clientId?: string
  /** Checked already (`checkCard`): stored as it is. */
  card?: Card
}

/** A message named by its sender, as the unique index knows it. */
export interface NamedMessage {
  roomId: number
  userId: number
  clientId: string
}

interface InsertedRow extends Omit<StoredMessage, 'card'> {
  room_id: number
  user_id: number
  client_id: string | null
}

/** A stored message and the name its sender gave it. */
export interface OriginalMessage extends StoredMessage, NamedMessage {}

/** A message as read from the table: `card` is null for most. */
type ReadMessage = Omit<StoredMessage, 'card'> & { card: Card | null }

/** Leaves `card` out of a message without one, rather than `card: null`, for old clients. */
function withCard<M extends { card: Card | null }>(row: M): Omit<M, 'card'> & { card?: Card } {
  const { card, ...message } = row
  return card === null ? message : { ...message, card }
}

/**
 * Only for a batch with named messages: the clause makes PostgreSQL insert every row of the
 * statement speculatively, which costs old clients' messages a fifth more for nothing.
 */
const skipRepeats = sql`on conflict (room_id, user_id, client_id) where client_id is not null do nothing`

/** Lets go of the rooms' locks (by room id) held on the connection; one row, their count. */
const unlockRoomsSql = (roomIds: number[]) =>
  sql`select count(pg_advisory_unlock(${ROOM_LOCK_SPACE}, room)) from unnest(${roomIds}::int4[]) as room`

export function createMessagesRepository(db: Kysely<ChatDatabase>) {
  const table = sql.table(`${CHAT_SCHEMA}.messages`)
  /** Stores a batch (arrays as parameters: one text for any batch), its rows after `from`. */
  const insertSql = (batch: NewMessage[], from: RawBuilder<unknown>) => sql`
    insert into ${table} (room_id, user_id, username, body, client_id, card)
    select v.room_id, v.user_id, v.username, v.body, v.client_id, v.card::jsonb
    from ${from} unnest(
      ${batch.map((message) => message.roomId)}::int8[],
      ${batch.map((message) => message.userId)}::int8[],
      ${batch.map((message) => message.username)}::text[],
      ${batch.map((message) => message.body)}::text[],
      ${batch.map((message) => message.clientId ?? null)}::text[],
      ${batch.map((message) => (message.card === undefined ? null : JSON.stringify(message.card)))}::text[]
    ) as v(room_id, user_id, username, body, client_id, card)
    ${batch.some((message) => message.clientId !== undefined) ? skipRepeats : sql``}
    returning id, username, body, created_at, room_id, user_id, client_id
  `
  return {
    /**
     * Lets go of the rooms in `release`, then takes the locks of `roomIds` (in increasing order,
     * so two writers cannot wait for each other) and stores the messages, in one statement and
     * one round trip: the locks are taken before any id is drawn, and ids increase in the order
     * given. The locks serialize each room's writers across instances until released on the
     * same connection (or until that connection ends, should the process die). One text for
     * any batch (arrays as parameters; a second one if it has named messages), prepared: the
     * server neither parses nor plans it again.
     * The answer is aligned with `batch`: `undefined` where a message repeats one already
     * stored under its name (`clientId`), before or earlier in the batch, and is not stored.
     */
    async lockRoomsAndInsert(
      roomIds: number[],
      batch: NewMessage[],
      conn: Kysely<ChatDatabase>,
      release: number[] = [],
    ): Promise<(StoredMessage | undefined)[]> {
      // Each step reads the row of the one before, which orders them: unlock, lock, insert.
      const result = await prepared(sql<InsertedRow>`
        with unlocked as (${unlockRoomsSql(release)}),
        locked as (
          select count(pg_advisory_lock(${ROOM_LOCK_SPACE}, room)) from unlocked, unnest(${roomIds}::int4[]) as room
        )
        ${insertSql(batch, sql`locked,`)}
      `).execute(conn)
      return alignWithBatch(batch, result.rows)
    },

    /**
     * `lockRoomsAndInsert` without the locks, for a database that is one session (PGlite):
     * there, advisory locks are re-entrant and order nothing, and a writer orders its rooms by
     * keeping the connection from its insert to its announcement.
     */
    async insert(batch: NewMessage[], conn: Kysely<ChatDatabase>) {
      const result = await prepared(sql<InsertedRow>`${insertSql(batch, sql``)}`).execute(conn)
      return alignWithBatch(batch, result.rows)
    },

    /**
     * The stored messages of these names (repeated ones, found by `lockRoomsAndInsert`). A
     * statement of its own: the insert's snapshot predates the room locks it waited for, so
     * it cannot see a message another instance committed meanwhile.
     */
    async originals(named: NamedMessage[], conn: Kysely<ChatDatabase>): Promise<OriginalMessage[]> {
      const result = await sql<ReadMessage & NamedMessage>`
        select m.id, m.username, m.body, m.created_at, m.card,
          m.room_id as "roomId", m.user_id as "userId", m.client_id as "clientId"
        from ${table} m, unnest(
          ${named.map((message) => message.roomId)}::int8[],
          ${named.map((message) => message.userId)}::int8[],
          ${named.map((message) => message.clientId)}::text[]
        ) as v(room_id, user_id, client_id)
        where m.room_id = v.room_id and m.user_id = v.user_id and m.client_id = v.client_id
      `.execute(conn)
      return result.rows.map((row) => ({
        ...withCard(row),
        roomId: Number(row.roomId),
        userId: Number(row.userId),
      }))
    },

    /** Lets go of the rooms' locks taken by `lockRoomsAndInsert` on the same connection. */
    async unlockRooms(roomIds: number[], conn: Kysely<ChatDatabase>) {
      await prepared(unlockRoomsSql(roomIds)).execute(conn)
    },

    /** Lets go of every lock the connection holds, when a failed statement left it unknown which. */
    async unlockAll(conn: Kysely<ChatDatabase>) {
      await sql`select pg_advisory_unlock_all()`.execute(conn)
    },

    /**
     * The room lock again, held until the transaction ends: waits for a writer that is between
     * its insert and its announcement, at most as long as the transaction's `lock_timeout`.
     */
    async lockRoomUntilCommit(roomId: number, trx: Kysely<ChatDatabase>) {
      await sql`select pg_advisory_xact_lock(${ROOM_LOCK_SPACE}, ${roomId}::int4)`.execute(trx)
    },

    /** Messages of these users stored since the given time, oldest first. */
    recentByUsers(userIds: number[], since: Date, trx: Kysely<ChatDatabase> = db) {
      return trx
        .selectFrom('messages')
        .select(['id', 'room_id', 'created_at'])
        .where('user_id', 'in', userIds)
        .where('created_at', '>=', since)
        .orderBy('id')
        .execute()
    },

    /** Undoes inserts whose announcement failed, so nothing unannounced stays in history. */
    async removeMany(ids: number[], trx: Kysely<ChatDatabase> = db) {
      await trx.deleteFrom('messages').where('id', 'in', ids).execute()
    },

    /**
     * A page of a room's history, newest first. With `after`, the page is the oldest messages
     * after that id (what a reconnecting client missed), still listed newest first.
     */
    async page(query: HistoryQuery, trx: Kysely<ChatDatabase> = db): Promise<StoredMessage[]> {
      let select = trx
        .selectFrom('messages')
        .select(['id', 'username', 'body', 'created_at', 'card'])
        .where('room_id', '=', query.roomId)
      if (query.before !== undefined) select = select.where('id', '<', query.before)
      if (query.after !== undefined) select = select.where('id', '>', query.after)
      const rows = await select
        .orderBy('id', query.after !== undefined ? 'asc' : 'desc')
        .limit(query.limit)
        .execute()
      const messages = rows.map(withCard)
      return query.after !== undefined ? messages.reverse() : messages
    },
  }
}

/**
 * The inserted rows in the batch's places. Rows come back in the order they were given, and
 * only a message with a name can be skipped, so a row belongs to the next message of its name
 * (or, without one, simply the next message).
 */
function alignWithBatch(batch: NewMessage[], rows: InsertedRow[]): (StoredMessage | undefined)[] {
  let next = 0
  return batch.map((message) => {
    const row = rows[next]
    const mine =
      row !== undefined &&
      row.client_id === (message.clientId ?? null) &&
      Number(row.user_id) === message.userId &&
      Number(row.room_id) === message.roomId
    if (!mine) return undefined
    next++
    // The card as checked, rather than returned and parsed again.
    const stored = {
      id: row.id,
      username: row.username,
      body: row.body,
      created_at: row.created_at,
    }
    return message.card === undefined ? stored : { ...stored, card: message.card }
  })
}
