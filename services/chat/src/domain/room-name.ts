export const ROOM_NAME_MAX = 50

// A letter, then letters, digits and `_`, with single `-` between them: the original's rule.
const ROOM_NAME = /^[A-Za-z][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*$/

/** The reason a room name is refused, or null when it is acceptable. */
export function roomNameProblem(name: string): string | null {
  if (name === '') return 'This field may not be blank.'
  if (name.length > ROOM_NAME_MAX) {
    return `Ensure this field has no more than ${ROOM_NAME_MAX} characters.`
  }
  if (!ROOM_NAME.test(name)) {
    return 'A room name starts with a letter, then letters, digits, underscores, and single hyphens between them.'
  }
  return null
}
