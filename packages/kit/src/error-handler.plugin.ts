import type { FastifyError, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export type FieldErrors = Record<string, string[]>

/**
 * The server is at capacity for this kind of work, not broken: `503` with `Retry-After`, the
 * message as the body's `detail`, and a warning rather than an error in the log.
 */
export class BusyError extends Error {
  override name = 'BusyError'
  readonly statusCode = 503

  constructor(
    message: string,
    readonly retryAfterSeconds = 1,
  ) {
    super(message)
  }
}

interface ValidationIssue {
  instancePath?: string
  message?: string
  keyword?: string
  params?: { missingProperty?: string; limit?: number; type?: string }
}

/** Turns schema validation issues into the field-error body of the original service. */
export function fieldErrorsFromValidation(issues: ValidationIssue[]): FieldErrors {
  const errors: FieldErrors = {}
  for (const issue of issues) {
    const path = issue.instancePath?.replace(/^\//, '').split('/')[0]
    const field = issue.params?.missingProperty ?? (path || 'non_field_errors')
    let message: string
    switch (issue.keyword) {
      case 'required':
        message = 'This field is required.'
        break
      case 'type':
        message = issue.params?.type === 'object' ? 'Invalid data.' : 'Not a valid string.'
        break
      case 'maxLength':
        message = `Ensure this field has no more than ${issue.params?.limit} characters.`
        break
      default:
        message = `Invalid value: ${issue.message ?? 'rejected'}.`
    }
    const list = errors[field] ?? []
    if (!list.includes(message)) list.push(message)
    errors[field] = list
  }
  return errors
}

/**
 * The one error handler: expected client errors keep their status and get a safe JSON body;
 * anything else is logged with the request id and answered with a generic 500.
 */
export const errorHandlerPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      if (error.validation) {
        return reply.code(400).send(fieldErrorsFromValidation(error.validation))
      }
      if (error instanceof BusyError) {
        request.log.warn({ reason: error.message }, 'busy: asked the client to retry')
        return reply
          .code(503)
          .header('retry-after', String(error.retryAfterSeconds))
          .send({ detail: error.message })
      }
      const status = error.statusCode ?? 500
      if (status >= 500) {
        request.log.error({ err: error }, 'request failed')
        return reply.code(status).send({ detail: 'Internal server error.' })
      }
      if (status === 413) return reply.code(413).send({ detail: 'Request body is too large.' })
      if (status === 415) return reply.code(415).send({ detail: 'Unsupported media type.' })
      if (
        error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
        error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
      ) {
        return reply.code(400).send({ non_field_errors: ['Malformed JSON body.'] })
      }
      return reply.code(status).send({ detail: error.message })
    })
    app.setNotFoundHandler((_request, reply) => reply.code(404).send({ detail: 'Not found.' }))
  },
  { name: 'finchat-error-handler', fastify: '5.x' },
)
