export { type HeaderToken, tokenFromAuthorization } from './authorization-header.js'
export { generateSigningKeys, loadOrCreateKeyFiles, type SigningKeys } from './keys.js'
export {
  createMemoryRevocationList,
  createRedisRevocationList,
  createRevocationList,
  type RevocationList,
} from './revocation-list.js'
export { type Session, type SessionClaims, TOKEN_ALGORITHM } from './session.js'
export {
  FORBIDDEN,
  INVALID_TOKEN,
  NOT_PROVIDED,
  type SessionAuthOptions,
  sessionAuthPlugin,
} from './session-auth.plugin.js'
export { createTokenVerifier, type TokenVerifier } from './token-verifier.js'
