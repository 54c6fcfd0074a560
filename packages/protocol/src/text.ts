import { HISTORY_PAGE_SIZE, MAX_CLIENT_ID_LENGTH, MAX_MESSAGE_LENGTH } from './limits.js'

/** Sent as `api-motd` to token (API) clients right after they connect. */
export const MOTD_TEXT =
  'Welcome to Financial Chat! Every frame is a JSON object sent as text. ' +
  'Send {"type": "help"} to list the available commands. ' +
  'Ask the stock bot for a quote with a custom command: ' +
  '{"type": "message", "room_name": "<room>", "command": "stock", "payload": "aapl.us"}.'

/** Sent as the `help` notification; lists every command a client may send. */
export const HELP_TEXT = [
  'Commands (send each as one JSON text frame):',
  '{"type": "help"}',
  '    Display this help again.',
  '{"type": "list"}',
  '    List every room, telling whether you have joined it.',
  '{"type": "join", "room_name": "<room>"}',
  '    Join a room. You receive its members and its latest messages.',
  '{"type": "part", "room_name": "<room>"}',
  '    Leave a room you have joined.',
  '{"type": "message", "room_name": "<room>", "body": "<text>"}',
  `    Post a message (at most ${MAX_MESSAGE_LENGTH} characters) to a room you have joined.`,
  `    Add "client_id": "<name>" (at most ${MAX_CLIENT_ID_LENGTH} visible ASCII characters) to send it`,
  '    again safely: sent again with the same name, it is not stored twice and you get its echo.',
  '{"type": "message", "room_name": "<room>", "command": "<command>", "payload": "<payload>"}',
  '    Send the custom command /<command>=<payload> to a room you have joined; it is not stored.',
  '    For instance, command "stock" with payload "aapl.us" asks the stock bot for a quote, and',
  '    "aapl.us,msft.us" for up to 5 at once, each answered apart; an answer may carry a "card".',
  '{"type": "custom", "room_name": "<room>", "command": "<command>", "payload": "<payload>"}',
  '    The same custom command, in the form the web client sends.',
  '{"type": "history", "room_name": "<room>", "before": <id>, "limit": <n>}',
  '{"type": "history", "room_name": "<room>", "after": <id>, "limit": <n>}',
  `    Page through a joined room's stored messages, newest first; limit is at most ${HISTORY_PAGE_SIZE}.`,
  '    Use "after" with the last message id you saw to catch up after reconnecting.',
].join('\n')
