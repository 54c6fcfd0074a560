/**
 * A complete websocket text frame (RFC 6455 §5.2: FIN, opcode 1, unmasked, then the length in
 * 7, 16 or 64 bits) around the UTF-8 bytes of `text`. Frames from a server are not masked, so an
 * event's frame is built once and the same bytes are written to each recipient's socket,
 * instead of being encoded and framed again per recipient as `WebSocket#send` does.
 */
export function textFrame(text: string): Buffer {
  const length = Buffer.byteLength(text)
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10
  const frame = Buffer.allocUnsafe(headerLength + length)
  frame[0] = 0x81
  if (length < 126) {
    frame[1] = length
  } else if (length < 65536) {
    frame[1] = 126
    frame.writeUInt16BE(length, 2)
  } else {
    frame[1] = 127
    frame.writeBigUInt64BE(BigInt(length), 2)
  }
  frame.write(text, headerLength)
  return frame
}
