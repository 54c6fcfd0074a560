import type { Migration } from 'kysely'
import * as init from './0001-init.js'

export const authMigrations: Record<string, Migration> = {
  '0001-init': init,
}
