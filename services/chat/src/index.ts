export { buildChat, type ChatLimits, type ChatOptions, DEFAULT_LIMITS } from './app.js'
export { type ChatConfig, ChatConfigSchema, loadChatConfig } from './config.js'
export { chatDb, migrateChat } from './db/migrate.js'
export type { ChatDb, RoomRow } from './db/schema.js'
export { chatOptions } from './deps.js'
export {
  type CreateRoomResult,
  createRoomAdmin,
  type RoomAdmin,
  type RoomAdminDeps,
} from './domain/room-admin.js'
export { createRoomAnnouncements } from './domain/room-announcements.js'
export { roomNameProblem } from './domain/room-name.js'
export { createRoomsRepository, DuplicateRoomError } from './domain/rooms.repository.js'
export { createMemoryPresence, createMemoryPresenceState } from './presence/memory-presence.js'
export type { Presence } from './presence/presence.js'
export { createRedisPresence, createRoomPresence } from './presence/redis-presence.js'
