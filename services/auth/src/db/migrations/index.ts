import type { Migration } from 'kysely'
import * as init from './0001-init.js'
import * as outbox from './0002-outbox.js'
import * as botAccounts from './0003-bot-accounts.js'

export const authMigrations: Record<string, Migration> = {
  '0001-init': init,
  '0002-outbox': outbox,
  '0003-bot-accounts': botAccounts,
}
