import type { FastifyRequest } from 'fastify'
import type { LoggerOptions } from 'pino'

/** Query parameters that carry a credential (`/ws/chat?token=`): never written to a log. */
const SECRET_PARAMS = /([?&](?:token|access_token|password)=)[^&#]*/gi

/** A request target fit for a log line: a credential in its query string is replaced. */
export function withoutSecrets(url: string | undefined): string | undefined {
  return url?.replace(SECRET_PARAMS, '$1[redacted]')
}

/** Logger options shared by every service: JSON lines, secrets never written. */
export function loggerOptions(level = 'info'): LoggerOptions {
  return {
    level,
    serializers: {
      // Fastify's own request serializer, but the URL's query credentials redacted.
      req(request: FastifyRequest) {
        return {
          method: request.method,
          url: withoutSecrets(request.url),
          host: request.host,
          remoteAddress: request.ip,
          remotePort: request.socket?.remotePort,
        }
      },
    },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        'password',
        'token',
        '*.password',
        '*.token',
      ],
      censor: '[redacted]',
    },
  }
}
