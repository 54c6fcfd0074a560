import { compareCodePoints } from '@finchat/protocol'

/** A member of a room that an instance held when it died, to be announced as parted. */
export interface Orphan {
  room: string
  user: string
}

/** What a dead instance held, handed to the survivor that reaps it. */
export interface DeadInstance {
  instanceId: string
  /** Its last heartbeat, in ms since the epoch. */
  lastBeatMs: number
  /** Users whose connection it held; they are released once the handler is done. */
  userIds: number[]
}

export interface PresenceHandlers {
  /** Members of a dead instance (already removed from their rooms), to be announced as parted. */
  onOrphans(orphans: Orphan[], dead: DeadInstance): Promise<void>
  /**
   * This instance was declared dead (a long stall) and reaped: its partings were announced and
   * its users released, so its clients must reconnect.
   */
  onEvicted(): void
  /**
   * This instance's records vanished without anyone reaping it (Redis lost its data): the
   * instance registers again what its connections hold, with `restoreUser` and `join`.
   */
  onRecordsLost(): Promise<void>
  /**
   * What this instance's connections hold right now (their users, and the rooms they are in),
   * checked against its records after Redis failed: a record nothing holds is a connection that
   * ended while Redis was away, whose release or parting was lost. Absent: no checks.
   */
  held?(): { userIds: Iterable<number>; members: Iterable<Orphan> }
  /** Members of connections that ended while Redis was away, now removed: announce them parted. */
  onGhosts?(ghosts: Orphan[]): Promise<void>
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
  /**
   * Records again a claim this instance held before its records were lost, without waiting:
   * false when another instance took the user meanwhile.
   */
  restoreUser(userId: number): Promise<boolean>
  releaseUser(userId: number): Promise<void>
  join(room: string, user: string): Promise<void>
  part(room: string, user: string): Promise<void>
  /** Members of the room on every instance, sorted by code point. */
  members(room: string): Promise<string[]>
  forgetRoom(room: string): Promise<void>
  /** Starts heartbeating and watching the other instances. */
  start(handlers: PresenceHandlers): Promise<void>
  ping(): Promise<boolean>
  /** Stops heartbeating and removes this instance's records (after a graceful goodbye). */
  stop(): Promise<void>
}

export const sortByCodePoint = (names: Iterable<string>) => [...names].sort(compareCodePoints)
