import type { ChatEvents } from '../events/chat-events.js'
import type { PresenceHandlers } from '../presence/presence.js'
import type { MessageStore } from './messages.repository.js'
import { createUnannouncedMessages } from './unannounced-messages.js'

export interface DeadInstancesOptions extends MessageStore {
  events: Pick<ChatEvents, 'orphanParted' | 'readRoomEvents' | 'closeRoomUpTo'>
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void }
}

/**
 * What the survivor that reaps a dead instance does for it: announces the partings of the
 * members it held, then removes the messages it stored but never announced.
 */
export function createDeadInstanceHandler(
  options: DeadInstancesOptions,
): PresenceHandlers['onOrphans'] {
  const { events, log } = options
  const unannounced = createUnannouncedMessages(options)
  return async (orphans, dead) => {
    log.warn({ count: orphans.length }, 'announcing the partings of a dead instance')
    for (const orphan of orphans) await events.orphanParted(orphan)
    await unannounced.remove(dead).catch((err) => {
      log.error({ err, dead: dead.instanceId }, 'could not check for unannounced messages')
    })
  }
}
