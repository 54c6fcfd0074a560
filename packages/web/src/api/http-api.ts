import type { ProfileResponse, Room, RoomList, UserList, UserSummary } from '@finchat/protocol'

/** Field errors as the server gives them (`{"username": ["..."]}`), or one general message. */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly fields: Record<string, string[]>,
  ) {
    super(Object.values(fields).flat().join(' ') || `The server answered ${status}.`)
  }
}

async function call<T>(method: string, path: string, body?: object): Promise<T> {
  let response: Response
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    })
  } catch {
    throw new RequestError(0, { non_field_errors: ['The server cannot be reached.'] })
  }
  const text = await response.text()
  const data = text ? safeJson(text) : null
  if (response.ok) return data as T
  throw new RequestError(response.status, asFieldErrors(data, response.status))
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function asFieldErrors(data: unknown, status: number): Record<string, string[]> {
  if (data && typeof data === 'object') {
    if ('detail' in data) return { non_field_errors: [String(data.detail)] }
    const fields: Record<string, string[]> = {}
    for (const [key, value] of Object.entries(data)) {
      fields[key] = Array.isArray(value) ? value.map(String) : [String(value)]
    }
    return fields
  }
  return { non_field_errors: [`The server answered ${status}.`] }
}

/** The REST calls of the web UI; the session itself is an HttpOnly cookie the browser keeps. */
export const api = {
  session: () => call<ProfileResponse>('GET', '/session'),
  logIn: (username: string, password: string) =>
    call<ProfileResponse>('POST', '/session', { username, password }),
  logOut: () => call<null>('DELETE', '/session'),
  /** Ends every session of the user, on every device (this one included). */
  logOutEverywhere: () => call<null>('POST', '/logout/everywhere'),
  register: (username: string, email: string, password: string) =>
    call<unknown>('POST', '/register', { username, email, password }),
  rooms: () => call<RoomList>('GET', '/admin/rooms'),
  createRoom: (name: string) => call<Room>('POST', '/admin/rooms', { name }),
  deleteRoom: (name: string) => call<null>('DELETE', `/admin/rooms/${encodeURIComponent(name)}`),
  users: () => call<UserList>('GET', '/admin/users'),
  grantAdmin: (username: string) =>
    call<UserSummary>('POST', `/admin/users/${encodeURIComponent(username)}/admin`, {
      is_admin: true,
    }),
  /** Refused with 409 for the last administrator; the user's sessions end. */
  revokeAdmin: (username: string) =>
    call<UserSummary>('DELETE', `/admin/users/${encodeURIComponent(username)}/admin`),
  /** A bot account may send cards; its sessions end, so that it applies at its next login. */
  markBot: (username: string) =>
    call<null>('PUT', `/admin/users/${encodeURIComponent(username)}/bot`),
  unmarkBot: (username: string) =>
    call<null>('DELETE', `/admin/users/${encodeURIComponent(username)}/bot`),
}
