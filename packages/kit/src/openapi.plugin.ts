import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

export type OpenApiDocument = Record<string, unknown>

/**
 * Collects the schemas of every route registered after it into an OpenAPI document, served at
 * `/openapi.json`: the gateway merges the services' documents, the standalone process has one.
 */
export const openApiPlugin = fp(
  async (app: FastifyInstance, options: { title?: string }) => {
    await app.register(swagger, {
      openapi: {
        info: {
          title: options.title ?? 'Financial Chat',
          version: '1',
          description: 'REST API of Financial Chat. The WebSocket protocol is in docs/protocol.md.',
        },
        components: {
          securitySchemes: {
            token: {
              type: 'apiKey',
              in: 'header',
              name: 'Authorization',
              description: '`Token <token>` (or `Bearer <token>`), the token from POST /login',
            },
          },
        },
      },
    })
    app.get('/openapi.json', { logLevel: 'warn', schema: { hide: true } }, async () =>
      app.swagger(),
    )
  },
  { name: 'finchat-openapi', fastify: '5.x' },
)

/** The app's own document (its routes so far). */
export function openApiDocument(app: FastifyInstance): OpenApiDocument {
  return app.swagger() as unknown as OpenApiDocument
}

export interface ApiDocsOptions {
  /** The document to show instead of this app's own (the gateway's merged one). */
  document?: () => Promise<OpenApiDocument>
}

/** Swagger UI at `/docs`. */
export const apiDocsPlugin = fp(
  async (app: FastifyInstance, options: ApiDocsOptions) => {
    const load = options.document
    let current: OpenApiDocument = {}
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      ...(load && {
        uiHooks: {
          onRequest: async (request: FastifyRequest) => {
            if (request.url.startsWith('/docs/json') || request.url.startsWith('/docs/yaml')) {
              current = await load()
            }
          },
        },
        transformSpecification: () => current,
        transformSpecificationClone: false,
      }),
    })
  },
  { name: 'finchat-api-docs', fastify: '5.x', dependencies: ['finchat-openapi'] },
)
