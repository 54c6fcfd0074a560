import type { Migration } from 'kysely'
import * as init from './0001-init.js'
import * as messagesByUser from './0002-messages-by-user.js'
import * as messageClientIds from './0003-message-client-ids.js'
import * as outbox from './0004-outbox.js'
import * as messageCards from './0005-message-cards.js'

export const chatMigrations: Record<string, Migration> = {
  '0001-init': init,
  '0002-messages-by-user': messagesByUser,
  '0003-message-client-ids': messageClientIds,
  '0004-outbox': outbox,
  '0005-message-cards': messageCards,
}
