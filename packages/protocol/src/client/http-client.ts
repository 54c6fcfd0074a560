import { type Dispatcher, request } from 'undici'
import type {
  LoginBody,
  LoginResponse,
  ProfileResponse,
  RegisterBody,
  RegisterResponse,
} from '../http.js'

/** A non-2xx answer; `body` is the parsed JSON when the server sent JSON, else the raw text. */
export class ApiError extends Error {
  override readonly name = 'ApiError'

  constructor(
    readonly status: number,
    readonly body: unknown,
    route: string,
  ) {
    super(`${route} answered ${status}: ${typeof body === 'string' ? body : JSON.stringify(body)}`)
  }
}

export interface ApiClient {
  register(body: RegisterBody): Promise<RegisterResponse>
  /** Resolves with the new session's token. */
  login(body: LoginBody): Promise<string>
  logout(token: string): Promise<void>
  profile(token: string): Promise<ProfileResponse>
}

export interface ApiClientOptions {
  /** A load generator passes its own pool; everyone else shares undici's global one. */
  dispatcher?: Dispatcher
}

/** A typed client for the public HTTP API (`baseUrl` is the gateway, e.g. `http://localhost:8000`). */
export function createApiClient(baseUrl: string | URL, options: ApiClientOptions = {}): ApiClient {
  const base = String(baseUrl).replace(/\/+$/, '')

  async function call(
    method: 'GET' | 'POST',
    path: string,
    { token, body }: { token?: string; body?: object },
  ): Promise<unknown> {
    const headers: Record<string, string> = {}
    if (token !== undefined) headers.authorization = `Token ${token}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    const response = await request(`${base}${path}`, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      dispatcher: options.dispatcher,
    })
    const parsed = parseBody(await response.body.text(), response.headers['content-type'])
    if (response.statusCode < 200 || response.statusCode > 299) {
      throw new ApiError(response.statusCode, parsed, `${method} ${path}`)
    }
    return parsed
  }

  return {
    async register(body) {
      return (await call('POST', '/register', { body })) as RegisterResponse
    },
    async login(body) {
      return ((await call('POST', '/login', { body })) as LoginResponse).token
    },
    async logout(token) {
      await call('POST', '/logout', { token })
    },
    async profile(token) {
      return (await call('GET', '/profile', { token })) as ProfileResponse
    },
  }
}

function parseBody(text: string, contentType: string | string[] | undefined): unknown {
  if (text === '') return null
  if (!String(contentType).includes('json')) return text
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
