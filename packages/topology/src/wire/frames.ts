// Binary frames after the handshake. One socket carries one channel's traffic, so frames do not
// name their channel. Lengths are little-endian u32.
//
//   DATA         [0x01] ( len:u32 bytes[len] )*         many small messages in one frame
//   CHUNK        [0x02] total:u32 offset:u32             header; the next ws message is the raw chunk
//   PING / PONG  [0x03|0x04] id:u32 sentAt:f64            heartbeats and round-trip time (control)
//   DIAL_ME      [0x05] index:u8 channel:utf8             "I have data for this channel; dial me" (control)

/** Frame type bytes. */
export const Frame = { DATA: 1, CHUNK: 2, PING: 3, PONG: 4, DIAL_ME: 5 } as const;

/** Bytes of framing added per message in a DATA frame. */
export const PER_MESSAGE_OVERHEAD = 4;

/** Builds one DATA frame holding `payloads` (whose sizes add up to `bytes`). */
export function encodeData(payloads: readonly Uint8Array[], count: number, bytes: number): Buffer {
  const frame = Buffer.allocUnsafe(1 + count * PER_MESSAGE_OVERHEAD + bytes);
  frame[0] = Frame.DATA;
  let pos = 1;
  for (let i = 0; i < count; i++) {
    const p = payloads[i] as Uint8Array;
    frame.writeUInt32LE(p.length, pos);
    frame.set(p, pos + 4);
    pos += 4 + p.length;
  }
  return frame;
}

/**
 * Calls `deliver` for each message of a DATA frame (views into `frame`, no copies). Returns an
 * error message for a malformed frame (after delivering the well-formed messages before it).
 */
export function decodeData(frame: Buffer, deliver: (payload: Buffer) => void): string | null {
  const end = frame.length;
  let pos = 1;
  while (pos < end) {
    if (pos + 4 > end) return `truncated length at byte ${pos}`;
    const len = frame.readUInt32LE(pos);
    pos += 4;
    if (len > end - pos) return `message of ${len} bytes overruns the frame (${end - pos} left)`;
    deliver(frame.subarray(pos, pos + len));
    pos += len;
  }
  return null;
}

/** The header that announces one chunk of a large message. */
export function encodeChunkHeader(total: number, offset: number): Buffer {
  const frame = Buffer.allocUnsafe(9);
  frame[0] = Frame.CHUNK;
  frame.writeUInt32LE(total, 1);
  frame.writeUInt32LE(offset, 5);
  return frame;
}

/** Parses a CHUNK header; returns null if malformed. */
export function decodeChunkHeader(frame: Buffer): { total: number; offset: number } | null {
  if (frame.length !== 9) return null;
  return { total: frame.readUInt32LE(1), offset: frame.readUInt32LE(5) };
}

/** A PING or PONG. */
export function encodePing(type: typeof Frame.PING | typeof Frame.PONG, id: number, sentAt: number): Buffer {
  const frame = Buffer.allocUnsafe(13);
  frame[0] = type;
  frame.writeUInt32LE(id >>> 0, 1);
  frame.writeDoubleLE(sentAt, 5);
  return frame;
}

/** Parses a PING or PONG; returns null if malformed. */
export function decodePing(frame: Buffer): { id: number; sentAt: number } | null {
  if (frame.length !== 13) return null;
  const sentAt = frame.readDoubleLE(5);
  return Number.isFinite(sentAt) ? { id: frame.readUInt32LE(1), sentAt } : null;
}

/** A DIAL_ME request for socket `index` of `channel`. */
export function encodeDialMe(channel: string, index: number): Buffer {
  const name = Buffer.from(channel, 'utf8');
  const frame = Buffer.allocUnsafe(2 + name.length);
  frame[0] = Frame.DIAL_ME;
  frame[1] = index;
  frame.set(name, 2);
  return frame;
}

/** Parses a DIAL_ME; returns null if malformed. */
export function decodeDialMe(frame: Buffer): { channel: string; index: number } | null {
  if (frame.length < 3 || frame.length > 2 + 64) return null;
  return { index: frame[1] as number, channel: frame.toString('utf8', 2) };
}
