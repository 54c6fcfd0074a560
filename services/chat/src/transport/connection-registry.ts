import type { ChatConnection } from './chat-connection.js'

/**
 * This instance's connections, and per room the connections that receive its events. A
 * connection enters a room's audience when its own `joined` comes back from the stream and
 * leaves it with its own `parted`, so it sees exactly the events between the two.
 */
export function createConnectionRegistry() {
  const byUser = new Map<string, ChatConnection>()
  const audiences = new Map<string, Set<ChatConnection>>()

  return {
    add(connection: ChatConnection) {
      byUser.set(connection.username, connection)
    },
    remove(connection: ChatConnection) {
      if (byUser.get(connection.username) === connection) byUser.delete(connection.username)
      for (const room of audiences.keys()) this.leaveAudience(room, connection)
    },
    byUsername(username: string) {
      return byUser.get(username)
    },
    bySession(sessionId: string) {
      for (const connection of byUser.values()) {
        if (connection.session.sessionId === sessionId) return connection
      }
      return undefined
    },
    all() {
      return byUser.values()
    },
    get size() {
      return byUser.size
    },
    audience(room: string): ReadonlySet<ChatConnection> | undefined {
      return audiences.get(room)
    },
    enterAudience(room: string, connection: ChatConnection) {
      const members = audiences.get(room) ?? new Set()
      members.add(connection)
      audiences.set(room, members)
    },
    leaveAudience(room: string, connection: ChatConnection) {
      const members = audiences.get(room)
      if (!members) return
      members.delete(connection)
      if (members.size === 0) audiences.delete(room)
    },
    dropAudience(room: string) {
      const members = audiences.get(room)
      audiences.delete(room)
      return members ?? new Set<ChatConnection>()
    },
  }
}

export type ConnectionRegistry = ReturnType<typeof createConnectionRegistry>
