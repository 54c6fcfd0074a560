import type { Migration } from 'kysely'
import * as init from './0001-init.js'

export const chatMigrations: Record<string, Migration> = {
  '0001-init': init,
}
