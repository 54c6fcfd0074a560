/** Codes of `{"type":"error"}` frames; the connection stays open after each of them. */
export const ErrorCode = {
  invalidFormat: 'invalid-format',
  unsupportedCommand: 'unsupported-command',
  emptyMessage: 'room:empty-message',
  emptyCustom: 'room:empty-custom',
  notJoined: 'room:not-joined',
  alreadyJoined: 'room:already-joined',
  invalidRoom: 'room:invalid',
  messageTooLong: 'room:message-too-long',
  rateLimited: 'rate-limited',
  /** Extension: a `message` carried a `card`, and its sender is not a bot account. */
  cardNotAllowed: 'room:card-not-allowed',
  /** Extension: a `message` carried a `card` that is not one (schema or size). */
  invalidCard: 'room:invalid-card',
  /**
   * Extension: the request was valid but failed on our side (store or bus unavailable), so the
   * client may retry. A `message` may have been stored all the same (the server could not tell
   * whether members received it): sent again with its `client_id`, it is not stored twice. One
   * generic code rather than one per operation, so that clients need a single rule for "not
   * your fault, try again".
   */
  internalError: 'internal-error',
} as const
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

/** Codes of `{"type":"fatal"}` frames, each followed by a close with code 1000. */
export const FatalCode = {
  notAuthenticated: 'not-authenticated',
  alreadyChatting: 'already-chatting',
} as const
export type FatalCode = (typeof FatalCode)[keyof typeof FatalCode]

/** WebSocket close codes the server uses, so that clients know whether reconnecting helps. */
export const CloseCode = {
  /** After a `fatal` frame or `logged-out`: reconnecting with the same credentials won't help. */
  normal: 1000,
  /**
   * More was sent before the handshake finished (while the token is checked) than the server
   * keeps for later: reconnect, and wait for the MOTD (or a first answer) before a burst.
   */
  policyViolation: 1008,
  /** Graceful shutdown of one chat instance: reconnect, the gateway picks another one. */
  serviceRestart: 1012,
  /**
   * The handshake could not be completed in time (the revocation list or the presence store is
   * unreachable or slow): not the client's fault, reconnect after a delay.
   */
  tryAgainLater: 1013,
  /**
   * The client read too slowly and its outbound buffer filled up: reconnect and fill the gap
   * with `history ... after`. In the private range because no registered code means this.
   */
  slowConsumer: 4008,
} as const
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]

/**
 * Human-readable HTTP error texts that existing clients match on, word for word as the original
 * (Django REST framework) service sent them.
 */
export const HttpErrorText = {
  credentialsNotProvided: 'Authentication credentials were not provided.',
  invalidToken: 'Invalid token.',
  loginMismatch: 'Username/Password mismatch',
  usernameTaken: 'A user with that username already exists.',
} as const
