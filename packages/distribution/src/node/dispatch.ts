// Inbound frames: decoded once, then handed to the feature that registered their kind (as libp2p's
// registrar hands streams to protocols). A frame this node cannot use fails alone: it is dropped
// and logged, and the connection and every other message carry on.

import type { Clock, Logger } from '@fdn/core';
import type { Codec } from '../codec/codec.ts';
import { DistributionErrorCode } from '../errors/errors.ts';
import type { Kind, Message } from './protocol.ts';

/**
 * Handles one message of a kind from `from`; `rest` is what followed the message in its frame
 * (bytes encoded before, wrapped without encoding them again), for kinds registered with `rest`.
 * Throwing marks the message malformed (dropped, logged).
 */
export type MessageHandler = (from: string, message: Message, rest: Buffer | null) => void;

/** Decodes frames and routes each message to the handler of its kind. */
export class Dispatcher {
  readonly #handlers = new Map<number, { handler: MessageHandler; rest: boolean }>();
  readonly #dropLog = new Map<string, { at: number; count: number }>();
  readonly #blockedFrom = new Set<string>();
  #dropped = 0;

  constructor(
    private readonly codec: Codec,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Makes `handler` the receiver of messages of `kind`; a kind has one handler. With `rest`, its frames may carry bytes after the message. */
  register(kind: Kind, handler: MessageHandler, options: { rest?: boolean } = {}): void {
    if (this.#handlers.has(kind)) throw new Error(`message kind ${String(kind)} has a handler already`);
    this.#handlers.set(kind, { handler, rest: options.rest === true });
  }

  /**
   * The receiver of `channel`'s messages, for the peer service: each message dispatched, then
   * `after(from, channel)` (the inbound gate). One closure per channel, made once.
   */
  receiverFor(channel: string, after: (from: string, channel: string) => void): (from: string, payload: Buffer) => void {
    return (from, payload) => {
      this.receiveFrame(from, payload);
      after(from, channel);
    };
  }

  /** Decodes `payload` from `from` and dispatches it (see the class comment for bad frames). */
  receiveFrame(from: string, payload: Buffer): void {
    if (this.#blockedFrom.has(from)) return;
    let message: unknown;
    let end: number;
    try {
      message = this.codec.decodeHead(payload);
      end = this.codec.headEnd;
    } catch (err) {
      this.#undecodable(from, 'a message that cannot be decoded', err);
      return;
    }
    if (!Array.isArray(message) || typeof message[0] !== 'number') {
      this.#undecodable(from, 'a frame that is not a protocol message', null);
      return;
    }
    const entry = this.#handlers.get(message[0]);
    if (entry === undefined) {
      this.#undecodable(from, `a message of unknown kind ${String(message[0])}`, null);
      return;
    }
    const rest = end < payload.length ? payload.subarray(end) : null;
    if (rest !== null && !entry.rest) {
      this.#undecodable(from, `a message followed by ${String(rest.length)} bytes it does not take`, null);
      return;
    }
    try {
      entry.handler(from, message as unknown as Message, rest);
    } catch (err) {
      this.#undecodable(from, 'a malformed protocol message', err);
    }
  }

  /** Frames dropped because they could not be decoded or understood, since the node started. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Fault injection: ignore everything from `node` (see `Node.blockNodes`). */
  blockFrom(node: string): void {
    this.#blockedFrom.add(node);
  }

  unblockAll(): void {
    this.#blockedFrom.clear();
  }

  /** One line per peer at most every 10 s (with how many were dropped since): a broken peer must not flood the log. */
  #undecodable(from: string, what: string, err: unknown): void {
    this.#dropped++;
    const now = this.clock.now();
    const last = this.#dropLog.get(from);
    if (last !== undefined && now - last.at < 10_000) {
      last.count++;
      return;
    }
    const since = last === undefined ? '' : ` (${String(last.count)} more since the last report)`;
    this.#dropLog.set(from, { at: now, count: 0 });
    this.logger.error(`${from} sent ${what}: dropped that message${since}. Are both nodes the same @fdn version?`, { code: DistributionErrorCode.DECODE_FAILED, peer: from, reason: err });
  }
}
