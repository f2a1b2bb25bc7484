// One WebSocket of a connection: its handshake state, which socket of which channel it is, and the
// receive path (frame decoding, chunk reassembly, limits). A protocol violation closes only this
// socket, with a close code; it never throws into the node.

import type { WebSocket } from 'ws';
import { CloseCode } from '../../errors.ts';
import type { NodeIdentity } from '../../node/identity.ts';
import type { FrameSink } from '../../channels/outbox.ts';
import { decodeChunkHeader, decodeDialMe, decodePing, Frame } from '../../wire/frames.ts';
import type { Hello } from '../../wire/handshake.ts';

/** What a socket reports to its connection once open. */
export interface ConnHandler {
  onMessage(sock: ChannelSocket, payload: Buffer): void;
  /** A DATA frame of several messages; returns an error for a malformed frame (see `decodeData`). */
  onData(sock: ChannelSocket, frame: Buffer): string | null;
  onPing(sock: ChannelSocket, id: number, sentAt: number): void;
  onPong(sock: ChannelSocket, id: number, sentAt: number): void;
  onDialMe(sock: ChannelSocket, channel: string, index: number): void;
  onActivity(sock: ChannelSocket): void;
}

/** @internal */
export class ChannelSocket implements FrameSink {
  state: 'handshake' | 'open' | 'closed' = 'handshake';
  /** Set once the hello is known (dialer: sent; acceptor: received). */
  hello: Hello | null = null;
  /** The peer, once the handshake authenticated it. */
  peer: NodeIdentity | null = null;
  /** Name of the node that dialled this socket. */
  dialedBy = '';
  /** Dialler side: the node we expect to reach, when known. */
  expectedName: string | undefined = undefined;
  /** Dialler side: aborted because the peer's crossing socket is kept; names that peer. */
  crossedWith: string | undefined = undefined;
  handler: ConnHandler | null = null;
  /** Why we closed it, if we did. */
  closedWith: { code: number; reason: string } | null = null;
  /** A large message being reassembled. */
  #chunk: { buffer: Buffer; filled: number; expectRaw: boolean } | null = null;
  readonly openedAt: number;
  /**
   * Set for low-priority (bulk) sockets: after each chunk the socket pauses until the next turn of
   * the event loop, so a flood of bulk data cannot keep the loop from the control socket.
   */
  yieldAfterChunk = false;
  #yielding = false;
  /** Set by the connection while the application paused this channel. */
  userPaused = false;

  constructor(
    readonly ws: WebSocket,
    readonly role: 'dialer' | 'acceptor',
    readonly maxMessageBytes: number,
    now: number,
    /** The address dialled (dialer side), for logs. */
    readonly address: string,
  ) {
    this.openedAt = now;
  }

  get channel(): string {
    return this.hello?.channel ?? '';
  }

  get index(): number {
    return this.hello?.index ?? 0;
  }

  get open(): boolean {
    return this.state === 'open';
  }

  write(frame: Buffer | Uint8Array, done: () => void): void {
    if (this.state !== 'open') {
      done();
      return;
    }
    this.ws.send(frame, BINARY, done);
  }

  /** Sends a handshake message (text). */
  sendText(message: object): void {
    if (this.state === 'closed') return;
    this.ws.send(JSON.stringify(message));
  }

  /** Closes with a code and a reason the peer will see (reasons are cut to the 123 bytes a close frame allows). */
  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closedWith = { code, reason };
    try {
      this.ws.close(code, Buffer.from(reason).subarray(0, 123).toString());
    } catch {
      this.ws.terminate();
    }
  }

  /** Drops the socket without a close frame (used to simulate a crash, and for dead peers). */
  terminate(): void {
    this.state = 'closed';
    this.ws.terminate();
  }

  /**
   * Handles one binary message of an open socket: one buffer, or the socket's fragments of it
   * (sockets use ws's `fragments` mode so a large chunk is copied once, into its message, and never
   * concatenated first). Returns an error (code and reason) for a protocol violation; the caller
   * closes the socket with it.
   */
  receive(message: Buffer | Buffer[]): { code: number; reason: string } | null {
    const handler = this.handler;
    if (handler === null) return { code: CloseCode.PROTOCOL_ERROR, reason: 'frame on a socket without a connection' };
    handler.onActivity(this);
    const chunk = this.#chunk;
    if (chunk?.expectRaw === true) return this.#rawChunk(chunk, message, handler);
    const data = Array.isArray(message) ? (message.length === 1 ? (message[0] as Buffer) : Buffer.concat(message)) : message;
    if (data.length === 0) return { code: CloseCode.PROTOCOL_ERROR, reason: 'empty frame' };
    switch (data[0]) {
      case Frame.DATA: {
        const error = handler.onData(this, data);
        return error === null ? null : { code: CloseCode.PROTOCOL_ERROR, reason: `malformed DATA frame: ${error}` };
      }
      case Frame.CHUNK:
        return this.#chunkHeader(data);
      case Frame.PING:
      case Frame.PONG: {
        const ping = decodePing(data);
        if (ping === null) return { code: CloseCode.PROTOCOL_ERROR, reason: 'malformed PING/PONG frame' };
        if (data[0] === Frame.PING) handler.onPing(this, ping.id, ping.sentAt);
        else handler.onPong(this, ping.id, ping.sentAt);
        return null;
      }
      case Frame.DIAL_ME: {
        const dial = decodeDialMe(data);
        if (dial === null) return { code: CloseCode.PROTOCOL_ERROR, reason: 'malformed DIAL_ME frame' };
        handler.onDialMe(this, dial.channel, dial.index);
        return null;
      }
      default:
        return { code: CloseCode.PROTOCOL_ERROR, reason: `unknown frame type ${String(data[0])}` };
    }
  }

  #chunkHeader(data: Buffer): { code: number; reason: string } | null {
    const header = decodeChunkHeader(data);
    if (header === null) return { code: CloseCode.PROTOCOL_ERROR, reason: 'malformed CHUNK header' };
    const { total, offset } = header;
    if (total > this.maxMessageBytes) {
      return { code: CloseCode.MESSAGE_TOO_LARGE, reason: `message of ${total} bytes exceeds the maximum of ${this.maxMessageBytes}` };
    }
    const current = this.#chunk;
    if (current === null) {
      if (offset !== 0 || total === 0) return { code: CloseCode.PROTOCOL_ERROR, reason: 'first chunk must start at offset 0 of a non-empty message' };
      this.#chunk = { buffer: Buffer.allocUnsafe(total), filled: 0, expectRaw: true };
      return null;
    }
    if (current.buffer.length !== total || current.filled !== offset) {
      return { code: CloseCode.PROTOCOL_ERROR, reason: `chunk at offset ${offset} of ${total} does not continue the message in progress` };
    }
    current.expectRaw = true;
    return null;
  }

  #rawChunk(chunk: { buffer: Buffer; filled: number; expectRaw: boolean }, message: Buffer | Buffer[], handler: ConnHandler): { code: number; reason: string } | null {
    const room = chunk.buffer.length - chunk.filled;
    let size = 0;
    if (Array.isArray(message)) for (const f of message) size += f.length;
    else size = message.length;
    if (size === 0 || size > room) return { code: CloseCode.PROTOCOL_ERROR, reason: `chunk of ${size} bytes does not fit the ${room} bytes left` };
    if (Array.isArray(message)) {
      for (const f of message) {
        f.copy(chunk.buffer, chunk.filled);
        chunk.filled += f.length;
      }
    } else {
      message.copy(chunk.buffer, chunk.filled);
      chunk.filled += size;
    }
    chunk.expectRaw = false;
    if (this.yieldAfterChunk && !this.#yielding) {
      this.#yielding = true;
      this.ws.pause();
      setImmediate(() => {
        this.#yielding = false;
        if (this.state === 'open' && !this.userPaused) this.ws.resume();
      });
    }
    if (chunk.filled === chunk.buffer.length) {
      this.#chunk = null;
      handler.onMessage(this, chunk.buffer);
    }
    return null;
  }
}

const BINARY = { binary: true, compress: false } as const;
