import type { OpenApiDocument } from '@finchat/kit'
import type { FastifyBaseLogger } from 'fastify'
import { request } from 'undici'

interface Section {
  paths?: Record<string, unknown>
  components?: { schemas?: Record<string, unknown> }
}

/**
 * The API as clients see it through the gateway: the services' own OpenAPI documents, fetched
 * when asked for and merged into the gateway's. A service that does not answer is left out,
 * and the description says so.
 */
export function mergedDocument(
  own: () => object,
  sources: Array<{ name: string; url: () => string | undefined }>,
  logger: FastifyBaseLogger,
): () => Promise<OpenApiDocument> {
  return async () => {
    const document = structuredClone(own()) as OpenApiDocument &
      Section & { info: { description?: string } }
    const missing: string[] = []
    for (const source of sources) {
      const base = source.url()
      const part = base ? await fetchDocument(`${base}/openapi.json`, logger) : undefined
      if (!part) {
        missing.push(source.name)
        continue
      }
      document.paths = { ...document.paths, ...part.paths }
      document.components = {
        ...document.components,
        schemas: { ...document.components?.schemas, ...part.components?.schemas },
      }
    }
    if (missing.length > 0) {
      document.info.description = `${document.info.description ?? ''}\n\nNot shown, because they did not answer: ${missing.join(', ')}.`
    }
    return document
  }
}

async function fetchDocument(url: string, logger: FastifyBaseLogger): Promise<Section | undefined> {
  try {
    const response = await request(url, { signal: AbortSignal.timeout(2000) })
    if (response.statusCode !== 200) {
      await response.body.dump()
      return undefined
    }
    return (await response.body.json()) as Section
  } catch (err) {
    logger.warn({ url, err: (err as Error).message }, 'could not fetch an OpenAPI document')
    return undefined
  }
}
