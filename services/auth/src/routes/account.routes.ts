import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  DetailError,
  FieldErrors,
  LoginBody,
  LoginResponse,
  ProfileResponse,
  RegisterBody,
  RegisterResponse,
} from '@finchat/protocol'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Accounts } from '../accounts/accounts.service.js'
import type { RegistrationLimiter } from '../limits/registration-limiter.js'
import type { SessionService } from '../sessions/session.service.js'
import { toProfile } from '../users/user-views.js'
import type { UsersRepository } from '../users/users.repository.js'

export interface AccountRoutesOptions {
  accounts: Accounts
  sessions: SessionService
  /** Absent: an address may register without limit. */
  registrations?: RegistrationLimiter
  /** Reads the profile of a session's user. */
  users: Pick<UsersRepository, 'findById'>
  cookieName: string
  tokenTtlSeconds: number
}

const MISMATCH = { non_field_errors: ['Username/Password mismatch'] }
const LOGIN_ERRORS = { 400: FieldErrors, 429: DetailError }
const SESSION_ERRORS = { 401: DetailError }
const NO_CONTENT = { 204: { type: 'null' } as const, ...SESSION_ERRORS }

/** The four account calls of PROTOCOL.md (register, login, logout, profile) and the web session. */
export const accountRoutes: FastifyPluginAsyncTypebox<AccountRoutesOptions> = async (
  app,
  { accounts, sessions, registrations, users, cookieName, tokenTtlSeconds },
) => {
  app.post(
    '/register',
    {
      schema: {
        body: RegisterBody,
        response: { 201: RegisterResponse, 400: FieldErrors, 429: DetailError },
      },
    },
    async (request, reply) => {
      const wait = await registrations?.take(request.ip)
      if (wait) {
        return reply
          .code(429)
          .header('retry-after', String(wait))
          .send({
            detail: `Too many registrations from this address. Try again in ${wait} seconds.`,
          })
      }
      const { username, email, password } = request.body
      const registered = await accounts.register({ username, email, password })
      if (!registered.ok) return reply.code(400).send(registered.errors)
      const { user } = registered
      return reply.code(201).send({ id: user.id, username: user.username, email: user.email })
    },
  )

  /** Opens a session for a login body; on refusal the answer (400, 429) is sent and it is undefined. */
  async function openSession(request: FastifyRequest<{ Body: LoginBody }>, reply: FastifyReply) {
    const { username, password } = request.body
    const opened = await sessions.open({ username, password, ip: request.ip })
    if (opened.ok) return opened
    if (opened.reason === 'mismatch') {
      reply.code(400).send(MISMATCH)
      return undefined
    }
    const retryAfter = opened.retryAfterSeconds
    reply
      .code(429)
      .header('retry-after', String(retryAfter))
      .send({ detail: `Too many failed login attempts. Try again in ${retryAfter} seconds.` })
    return undefined
  }

  /** Closes the request's session (set by `authenticate`). */
  function closeSession(request: FastifyRequest) {
    if (!request.session) throw new Error('authenticate ran without a session')
    return sessions.close(request.session)
  }

  /** The profile of the request's session, whether it came as a token or as the cookie. */
  async function currentProfile(request: FastifyRequest, reply: FastifyReply) {
    const user = request.session && (await users.findById(request.session.userId))
    if (!user) return reply.code(401).send({ detail: 'Invalid token.' })
    return toProfile(user)
  }
  const profileRoute = {
    preHandler: app.authenticate,
    schema: { response: { 200: ProfileResponse, ...SESSION_ERRORS } },
  }

  app.post(
    '/login',
    { schema: { body: LoginBody, response: { 200: LoginResponse, ...LOGIN_ERRORS } } },
    async (request, reply) => {
      const opened = await openSession(request, reply)
      if (opened) return { token: opened.token }
    },
  )

  app.post(
    '/logout',
    { preHandler: app.authenticate, schema: { response: NO_CONTENT } },
    async (request, reply) => {
      await closeSession(request)
      return reply.code(204).send()
    },
  )

  // Extension: a lost device or a leaked token. Every session of the user ends, this one too;
  // the web UI's cookie goes with it.
  app.post(
    '/logout/everywhere',
    { preHandler: app.authenticate, schema: { response: NO_CONTENT } },
    async (request, reply) => {
      const session = request.session
      if (!session) throw new Error('authenticate ran without a session')
      await sessions.closeAll({ id: session.userId, username: session.username })
      return reply.clearCookie(cookieName, cookieOptions(request)).code(204).send()
    },
  )

  app.get('/profile', profileRoute, currentProfile)

  // Extension: the web UI's session lives in an HttpOnly cookie, out of reach of scripts.
  const cookieOptions = (request: FastifyRequest) => ({
    path: '/',
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: request.protocol === 'https',
  })

  app.post(
    '/session',
    { schema: { body: LoginBody, response: { 200: ProfileResponse, ...LOGIN_ERRORS } } },
    async (request, reply) => {
      const opened = await openSession(request, reply)
      if (!opened) return
      reply.setCookie(cookieName, opened.token, {
        ...cookieOptions(request),
        maxAge: tokenTtlSeconds,
      })
      return toProfile(opened.user)
    },
  )

  app.get('/session', profileRoute, currentProfile)

  app.delete(
    '/session',
    { preHandler: app.authenticate, schema: { response: NO_CONTENT } },
    async (request, reply) => {
      await closeSession(request)
      return reply.clearCookie(cookieName, cookieOptions(request)).code(204).send()
    },
  )
}
