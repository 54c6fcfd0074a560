export { type HeaderToken, tokenFromAuthorization } from './authorization-header.js'
export {
  type CredentialRules,
  type Credentials,
  originAllowed,
  readCredentials,
} from './credentials.js'
export { generateSigningKeys, loadOrCreateKeyFiles, type SigningKeys } from './keys.js'
export {
  createMemoryRevocationList,
  createRedisRevocationList,
  createRevocationList,
  type Revocation,
  type RevocationList,
  RevocationsUnknownError,
} from './revocation-list.js'
export {
  claimsFor,
  DEFAULT_SESSION_COOKIE,
  type Session,
  type SessionClaims,
  SessionClaimsSchema,
  type SessionGrant,
  sessionCookieField,
  sessionFrom,
  TOKEN_ALGORITHM,
} from './session.js'
export {
  FORBIDDEN,
  INVALID_TOKEN,
  NOT_PROVIDED,
  type SessionAuthOptions,
  sessionAuthPlugin,
} from './session-auth.plugin.js'
export {
  type TokenIssuer,
  type TokenIssuerOptions,
  tokenIssuerPlugin,
} from './token-issuer.plugin.js'
export { createTokenVerifier, type TokenVerifier } from './token-verifier.js'
