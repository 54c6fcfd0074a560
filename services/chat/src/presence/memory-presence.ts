import { type Presence, sortByCodePoint } from './presence.js'

export interface MemoryPresenceState {
  claims: Map<number, string>
  rooms: Map<string, Set<string>>
}

export const createMemoryPresenceState = (): MemoryPresenceState => ({
  claims: new Map(),
  rooms: new Map(),
})

/**
 * Presence inside one process. Several chat instances of one process (tests, a standalone run)
 * share one state, as instances of a cluster share Redis; there is no death to watch for.
 */
export function createMemoryPresence(
  instanceId: string,
  state: MemoryPresenceState = createMemoryPresenceState(),
): Presence {
  return {
    instanceId,
    async claimUser(userId) {
      if (state.claims.has(userId)) return false
      state.claims.set(userId, instanceId)
      return true
    },
    async restoreUser(userId) {
      const holder = state.claims.get(userId) ?? instanceId
      state.claims.set(userId, holder)
      return holder === instanceId
    },
    async releaseUser(userId) {
      if (state.claims.get(userId) === instanceId) state.claims.delete(userId)
    },
    async join(room, user) {
      const members = state.rooms.get(room) ?? new Set()
      members.add(user)
      state.rooms.set(room, members)
    },
    async part(room, user) {
      const members = state.rooms.get(room)
      members?.delete(user)
      if (members?.size === 0) state.rooms.delete(room)
    },
    async members(room) {
      return sortByCodePoint(state.rooms.get(room) ?? [])
    },
    async forgetRoom(room) {
      state.rooms.delete(room)
    },
    async start() {},
    async ping() {
      return true
    },
    async stop() {
      for (const [userId, owner] of state.claims) {
        if (owner === instanceId) state.claims.delete(userId)
      }
    },
  }
}
