export function serialize(data: unknown): string {
  const json = JSON.stringify(data)
  // undefined, functions and symbols stringify to undefined: no reader could parse the entry.
  if (json === undefined) throw new TypeError('bus: event data must be JSON-serializable')
  return json
}
