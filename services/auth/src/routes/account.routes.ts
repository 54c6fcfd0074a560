import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import {
  DetailError,
  FieldErrors,
  LoginBody,
  LoginResponse,
  ProfileResponse,
  RegisterBody,
  RegisterResponse,
  type SessionRevokedEvent,
  STREAMS,
} from '@finchat/protocol'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AuthDeps } from '../app.js'
import type { User } from '../db/schema.js'
import { MESSAGES, validateRegistration } from '../users/registration-rules.js'
import { DuplicateUserError } from '../users/users.repository.js'

const MISMATCH = { non_field_errors: ['Username/Password mismatch'] }

/** The four account calls of PROTOCOL.md: register, login, logout, profile. */
export const accountRoutes: FastifyPluginAsyncTypebox<AuthDeps> = async (app, deps) => {
  const { users, sessions, passwords, loginLimiter, bus, revocations, clock } = deps

  app.post(
    '/register',
    {
      schema: {
        body: RegisterBody,
        response: { 201: RegisterResponse, 400: FieldErrors },
      },
    },
    async (request, reply) => {
      const registration = {
        username: request.body.username,
        email: request.body.email ?? '',
        password: request.body.password,
      }
      const errors = validateRegistration(registration)
      if (!errors.username || !errors.email) {
        const taken = await users.taken(registration.username, registration.email)
        if (taken.username && !errors.username) errors.username = [MESSAGES.usernameTaken]
        if (taken.email && !errors.email) errors.email = [MESSAGES.emailTaken]
      }
      if (Object.keys(errors).length > 0) return reply.code(400).send(errors)

      try {
        const user = await users.insert({
          username: registration.username,
          email: registration.email,
          password_hash: await passwords.hash(registration.password),
        })
        return reply.code(201).send({ id: user.id, username: user.username, email: user.email })
      } catch (error) {
        if (!(error instanceof DuplicateUserError)) throw error
        const message = error.field === 'email' ? MESSAGES.emailTaken : MESSAGES.usernameTaken
        return reply.code(400).send({ [error.field]: [message] })
      }
    },
  )

  /**
   * Checks the credentials of a login body and opens a session. On failure the answer (400,
   * 429) is already sent and the result is undefined.
   */
  async function openSession(
    request: FastifyRequest<{ Body: LoginBody }>,
    reply: FastifyReply,
  ): Promise<{ user: User; token: string } | undefined> {
    const { username, password } = request.body
    const retryAfter = await loginLimiter.retryAfter(username, request.ip)
    if (retryAfter !== null) {
      reply
        .code(429)
        .header('retry-after', String(retryAfter))
        .send({ detail: `Too many failed login attempts. Try again in ${retryAfter} seconds.` })
      return undefined
    }
    const user = await users.findByUsername(username)
    // A missing user still costs one hash, so response time does not reveal which names exist.
    const valid = user
      ? await passwords.verify(password, user.password_hash)
      : await passwords.verify(password, deps.decoyHash).then(() => false)
    if (!user || !valid) {
      await loginLimiter.recordFailure(username, request.ip)
      reply.code(400).send(MISMATCH)
      return undefined
    }
    const sessionId = randomUUID()
    const now = clock()
    const expiresAt = new Date(now.getTime() + deps.tokenTtlSeconds * 1000)
    await sessions.insert({
      id: sessionId,
      user_id: user.id,
      expires_at: expiresAt,
      revoked_at: null,
    })
    const token = app.issueSessionToken({
      userId: user.id,
      username: user.username,
      isAdmin: user.is_admin,
      sessionId,
    })
    return { user, token }
  }

  /** Revokes the request's session everywhere: its row, the shared list, and open chat sockets. */
  async function closeSession(request: FastifyRequest) {
    const session = request.session
    if (!session) throw new Error('authenticate ran without a session')
    await sessions.revoke(session.sessionId, clock())
    await revocations.revoke(session.sessionId, session.expiresAt)
    const event: SessionRevokedEvent = {
      type: 'session.revoked',
      session_id: session.sessionId,
      user_id: session.userId,
      username: session.username,
      at: clock().getTime(),
    }
    await bus.append(STREAMS.authEvents, event)
  }

  app.post(
    '/login',
    {
      schema: {
        body: LoginBody,
        response: { 200: LoginResponse, 400: FieldErrors, 429: DetailError },
      },
    },
    async (request, reply) => {
      const opened = await openSession(request, reply)
      if (opened) return { token: opened.token }
    },
  )

  app.post(
    '/logout',
    {
      preHandler: app.authenticate,
      schema: { response: { 204: { type: 'null' }, 401: DetailError } },
    },
    async (request, reply) => {
      await closeSession(request)
      return reply.code(204).send()
    },
  )

  /** The profile of the request's session, whether it came as a token or as the cookie. */
  async function currentProfile(request: FastifyRequest, reply: FastifyReply) {
    const user = request.session && (await users.findById(request.session.userId))
    if (!user) return reply.code(401).send({ detail: 'Invalid token.' })
    return profileOf(user)
  }

  app.get(
    '/profile',
    {
      preHandler: app.authenticate,
      schema: { response: { 200: ProfileResponse, 401: DetailError } },
    },
    currentProfile,
  )

  // Extension: the web UI's session lives in an HttpOnly cookie, out of reach of scripts.
  const cookieOptions = (request: FastifyRequest) => ({
    path: '/',
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: request.protocol === 'https',
  })

  app.post(
    '/session',
    {
      schema: {
        body: LoginBody,
        response: { 200: ProfileResponse, 400: FieldErrors, 429: DetailError },
      },
    },
    async (request, reply) => {
      const opened = await openSession(request, reply)
      if (!opened) return
      reply.setCookie(deps.cookieName, opened.token, {
        ...cookieOptions(request),
        maxAge: deps.tokenTtlSeconds,
      })
      return profileOf(opened.user)
    },
  )

  app.get(
    '/session',
    {
      preHandler: app.authenticate,
      schema: { response: { 200: ProfileResponse, 401: DetailError } },
    },
    currentProfile,
  )

  app.delete(
    '/session',
    {
      preHandler: app.authenticate,
      schema: { response: { 204: { type: 'null' }, 401: DetailError } },
    },
    async (request, reply) => {
      await closeSession(request)
      return reply.clearCookie(deps.cookieName, cookieOptions(request)).code(204).send()
    },
  )
}

function profileOf(user: User) {
  return { id: user.id, username: user.username, email: user.email, is_admin: user.is_admin }
}
