import type { OutboxTable } from '@finchat/db'
import type { Card } from '@finchat/protocol'
import type { ColumnType, Generated, Kysely, Selectable } from 'kysely'

export interface RoomsTable {
  id: Generated<number>
  name: string
  created_at: ColumnType<Date, never, never>
}

export interface MessagesTable {
  id: Generated<number>
  room_id: number
  user_id: number
  username: string
  body: string
  /** The sender's name for the message (`client_id`), unique per room and user when present. */
  client_id: ColumnType<string | null, string | null | undefined, never>
  /** A bot account's card, checked before it is stored (jsonb, read back parsed). */
  card: ColumnType<Card | null, string | null | undefined, never>
  created_at: ColumnType<Date, never, never>
}

export interface ChatDatabase {
  rooms: RoomsTable
  messages: MessagesTable
  outbox: OutboxTable
}

export type RoomRow = Selectable<RoomsTable>
export type MessageRow = Selectable<MessagesTable>
export type ChatDb = Kysely<ChatDatabase>

export const CHAT_SCHEMA = 'chat'
