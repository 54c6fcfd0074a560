import type { OutboxTable } from '@finchat/db'
import type { ColumnType, Generated, Insertable, Kysely, Selectable } from 'kysely'

export interface UsersTable {
  id: Generated<number>
  username: string
  email: string
  password_hash: string
  is_admin: Generated<boolean>
  /** A bot account: its messages may carry a card. */
  is_bot: Generated<boolean>
  created_at: ColumnType<Date, never, never>
}

export interface SessionsTable {
  id: string
  user_id: number
  created_at: ColumnType<Date, never, never>
  expires_at: Date
  revoked_at: Date | null
}

export interface AuthDatabase {
  users: UsersTable
  sessions: SessionsTable
  outbox: OutboxTable
}

export type User = Selectable<UsersTable>
export type NewUser = Insertable<UsersTable>
export type SessionRow = Selectable<SessionsTable>
export type NewSession = Insertable<SessionsTable>

export type AuthDb = Kysely<AuthDatabase>

export const AUTH_SCHEMA = 'auth'
