/**
 * Longest accepted message body, in Unicode code points (the original counted Python string
 * length, and a UTF-16 count would reject emoji-heavy messages the original accepted).
 */
export const MAX_MESSAGE_LENGTH = 512

/** Messages in a `joined` status and the most a `history` request may ask for. */
export const HISTORY_PAGE_SIZE = 50

/** Longest `client_id` a message may carry (extension), in characters. */
export const MAX_CLIENT_ID_LENGTH = 64
