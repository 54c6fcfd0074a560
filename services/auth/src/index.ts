export {
  type Accounts,
  type AccountsDeps,
  createAccounts,
  LastAdminError,
  type RegisterResult,
} from './accounts/accounts.service.js'
export { type AuthOptions, buildAuth } from './app.js'
export { type AuthConfig, AuthConfigSchema, loadAuthConfig } from './config.js'
export { authDb, migrateAuth } from './db/migrate.js'
export type { AuthDatabase, AuthDb, User } from './db/schema.js'
export { authOptions, signingKeys } from './deps.js'
export {
  createMemoryLoginLimiter,
  createRedisLoginLimiter,
  type LoginLimiter,
  type LoginLimits,
} from './limits/login-limiter.js'
export {
  createMemoryRegistrationLimiter,
  createRedisRegistrationLimiter,
  type RegistrationLimiter,
  type RegistrationLimits,
} from './limits/registration-limiter.js'
export {
  createSessionService,
  type OpenSessionResult,
  type SessionService,
  type SessionServiceDeps,
} from './sessions/session.service.js'
export {
  announceRevoked,
  createRevocationRelay,
  type RevocationRelay,
} from './sessions/session-revocations.js'
export {
  createBoundedHasher,
  createScryptHasher,
  type HashQueueLimits,
  type PasswordHasher,
} from './users/password-hasher.js'
export { validateRegistration } from './users/registration-rules.js'
export { toUserSummary } from './users/user-views.js'
export { createUsersRepository, DuplicateUserError } from './users/users.repository.js'
