import { compareCodePoints } from '@finchat/protocol'

/** A member of a room that an instance held when it died, to be announced as parted. */
export interface Orphan {
  room: string
  user: string
}

/**
 * Cluster-wide presence: who holds a chat connection (one per user) and who is in which room.
 * Each instance records what it holds under its own id, so that when it dies without a goodbye
 * the survivors can release its users and announce their partings.
 */
export interface Presence {
  readonly instanceId: string
  /** Takes the user's one chat connection; false when a live connection elsewhere has it. */
  claimUser(userId: number): Promise<boolean>
  releaseUser(userId: number): Promise<void>
  join(room: string, user: string): Promise<void>
  part(room: string, user: string): Promise<void>
  /** Members of the room on every instance, sorted by code point. */
  members(room: string): Promise<string[]>
  forgetRoom(room: string): Promise<void>
  /**
   * Starts heartbeating and watching the other instances. `onOrphans` receives the members of a
   * dead instance (already released); `onEvicted` is called when this instance was itself
   * declared dead (a long stall), since its records are gone and its clients must reconnect.
   */
  start(handlers: { onOrphans(orphans: Orphan[]): Promise<void>; onEvicted(): void }): Promise<void>
  ping(): Promise<boolean>
  /** Stops heartbeating and removes this instance's records (after a graceful goodbye). */
  stop(): Promise<void>
}

export const sortByCodePoint = (names: Iterable<string>) => [...names].sort(compareCodePoints)
