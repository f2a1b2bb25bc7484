// Protocol messages between nodes (overlays, Plumtree, relays), multiplexed on a channel by a tag
// byte. Over real connections a message is the tag followed by msgpack; on the simulator it travels as
// the value itself (by reference): the protocol code is the same, only the encoding is skipped.

import type { Logger } from '@fdn/core';
import { Packr } from 'msgpackr';
import type { Connection, SendStatus, Transport } from '../transport/types.ts';

/** Tags of the protocols sharing a channel. */
export const Tag = {
  OVERLAY: 1,
  PLUMTREE: 2,
  RELAY: 3,
  /** A second overlay beside the first on the same connections (while a cluster changes its overlay). */
  OVERLAY_ALT: 4,
  RELAY_ALT: 5,
} as const;

/** The highest tag of this protocol version: a peer may use any of them before this node registers it. */
const KNOWN_TAGS = 5;

/** Receives a decoded protocol message. `value` is untrusted: validate before use. */
export type ProtocolHandler = (connection: Connection, value: unknown) => void;

/** A connection that can carry values without encoding (the simulator's). */
export interface ValueConnection extends Connection {
  sendValue(channel: string, tag: number, value: unknown): SendStatus;
}

/** A transport that can deliver values without decoding (the simulator's). */
export interface ValueTransport extends Transport {
  onValue(channel: string, tag: number, handler: ProtocolHandler | null): void;
}

function isValueConnection(connection: Connection): connection is ValueConnection {
  return typeof (connection as Partial<ValueConnection>).sendValue === 'function';
}

function isValueTransport(t: Transport): t is ValueTransport {
  return typeof (t as Partial<ValueTransport>).onValue === 'function';
}

const packr = new Packr({ useRecords: false, moreTypes: false });

/** The tag byte, then the value in msgpack. */
function encode(tag: number, value: unknown): Buffer {
  const body = packr.pack(value);
  const payload = Buffer.allocUnsafe(1 + body.length);
  payload[0] = tag;
  body.copy(payload, 1);
  return payload;
}

/** A protocol message for several connections, encoded at most once (see {@link Messenger.prepare}). */
export class PreparedMessage {
  #bytes: Buffer | null = null;

  constructor(
    private readonly channel: string,
    private readonly tag: number,
    private readonly value: unknown,
  ) {}

  sendTo(connection: Connection): SendStatus {
    if (isValueConnection(connection)) return connection.sendValue(this.channel, this.tag, this.value);
    this.#bytes ??= encode(this.tag, this.value);
    return connection.send(this.channel, this.#bytes);
  }
}

/** One per (transport, channel): protocols register their tag, send values, receive values. */
export class Messenger {
  static #all = new WeakMap<Transport, Map<string, Messenger>>();
  readonly #handlers = new Map<number, ProtocolHandler>();

  /** The messenger of `transport`'s `channel` (created on first use). */
  static of(transport: Transport, channel: string, logger: Logger): Messenger {
    let byChannel = Messenger.#all.get(transport);
    if (byChannel === undefined) Messenger.#all.set(transport, (byChannel = new Map<string, Messenger>()));
    let m = byChannel.get(channel);
    if (m === undefined) byChannel.set(channel, (m = new Messenger(transport, channel, logger)));
    return m;
  }

  private constructor(
    readonly transport: Transport,
    readonly channel: string,
    readonly logger: Logger,
  ) {
    transport.onMessage(channel, (connection, payload) => {
      this.#receive(connection, payload);
    });
  }

  /** Registers the handler of `tag` (one per tag). */
  on(tag: number, handler: ProtocolHandler): void {
    this.#handlers.set(tag, handler);
    const t = this.transport;
    if (isValueTransport(t)) t.onValue(this.channel, tag, handler);
  }

  /** Removes the handler of `tag`: its messages are dropped from now on. */
  off(tag: number): void {
    this.#handlers.delete(tag);
    const t = this.transport;
    if (isValueTransport(t)) t.onValue(this.channel, tag, null);
  }

  /** Sends `value` to `connection` under `tag`. */
  send(connection: Connection, tag: number, value: unknown): SendStatus {
    if (isValueConnection(connection)) return connection.sendValue(this.channel, tag, value);
    return connection.send(this.channel, encode(tag, value));
  }

  /**
   * `value` under `tag`, to be sent to several connections (a broadcast's eager push, a state
   * gossiped to every neighbour): encoded once, on the first connection that needs bytes.
   */
  prepare(tag: number, value: unknown): PreparedMessage {
    return new PreparedMessage(this.channel, tag, value);
  }

  #receive(connection: Connection, payload: Buffer): void {
    if (payload.length === 0) {
      this.#malformed(connection, 'empty protocol message');
      return;
    }
    const tag = payload[0] as number;
    const handler = this.#handlers.get(tag);
    if (handler === undefined) {
      // A known tag nobody listens to here (yet): a peer runs a protocol this node does not run
      // now (an overlay being brought up or retired). Dropped; anything else is garbage.
      if (tag >= 1 && tag <= KNOWN_TAGS) return;
      this.#malformed(connection, `protocol message with unknown tag ${String(tag)}`);
      return;
    }
    let value: unknown;
    try {
      value = packr.unpack(payload.subarray(1));
    } catch (err) {
      this.#malformed(connection, `undecodable protocol message (${(err as Error).message})`);
      return;
    }
    handler(connection, value);
  }

  /** An authenticated peer sent garbage: a bug or an attack. Drop the connection, say why. */
  #malformed(connection: Connection, why: string): void {
    this.logger.warn(`closing the connection to ${connection.peer.name}: ${why}`, { channel: this.channel });
    connection.close(why);
  }
}
