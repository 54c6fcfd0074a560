import { parseClientFrame } from '@finchat/protocol'
import type { RawData } from 'ws'
import type { Commands } from '../domain/commands.js'
import { errorFrame, rateLimitedFrame } from '../events/frames.js'
import type { ChatConnection } from './chat-connection.js'

const toBuffer = (data: RawData) =>
  Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? Buffer.from(data) : data

/**
 * A client frame in: over its rate limit, or not a frame of the protocol, it is answered with an
 * error; else it goes to the commands. Frames carry no request ids: every answer, errors
 * included, keeps the frames' order.
 */
export function createFrameReader(commands: Pick<Commands, 'handle'>) {
  const answer = (connection: ChatConnection, frame: string) =>
    connection.enqueue(async () => connection.send(frame))

  return (connection: ChatConnection, data: RawData, isBinary: boolean) => {
    const waitMs = connection.takeAllowance()
    if (waitMs > 0) return answer(connection, rateLimitedFrame(waitMs))
    const parsed = parseClientFrame(toBuffer(data), isBinary)
    if (!parsed.ok) return answer(connection, errorFrame(parsed.error))
    connection.enqueue(() => commands.handle(connection, parsed.frame))
  }
}

export type FrameReader = ReturnType<typeof createFrameReader>
