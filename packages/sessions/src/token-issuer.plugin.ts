import fastifyJwt from '@fastify/jwt'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { SigningKeys } from './keys.js'
import { claimsFor, type SessionGrant, TOKEN_ALGORITHM } from './session.js'

/** Signs a session's token; its expiry is the issuer's TTL from now. */
export type TokenIssuer = (grant: SessionGrant) => string

declare module 'fastify' {
  interface FastifyInstance {
    /** Auth only: the token of a session just opened, with the claims `createTokenVerifier` reads. */
    issueSessionToken: TokenIssuer
  }
}

export interface TokenIssuerOptions {
  keys: SigningKeys
  ttlSeconds: number
}

/**
 * The signing half of the token contract, beside its verifying half (`createTokenVerifier`):
 * @fastify/jwt signs the payload `claimsFor` writes. Its own request decorators are not used:
 * they check no revocation list, so every verification goes through the verifier.
 */
export const tokenIssuerPlugin = fp<TokenIssuerOptions>(
  async (app: FastifyInstance, options) => {
    await app.register(fastifyJwt, {
      secret: { private: options.keys.privateKey, public: options.keys.publicKey },
      sign: { algorithm: TOKEN_ALGORITHM, expiresIn: options.ttlSeconds },
    })
    app.decorate('issueSessionToken', (grant: SessionGrant) => app.jwt.sign(claimsFor(grant)))
  },
  { name: 'finchat-token-issuer', fastify: '5.x' },
)
