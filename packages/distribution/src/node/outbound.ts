// The send path to other nodes: encode once, then hand the bytes to the overlay's `send` (the
// node's connection on the chosen channel; no connection yet: the overlay queues in order while it opens one
// or relays, the same layer that receives); at-least-once channels number, keep and resend
// through the reliable channels. Everything a node sends to another node leaves through here.

import type { Clock, Logger, TimerHandle } from '@fdn/core';
import { DEFAULT_CHANNEL } from '@fdn/topology';
import type { PeerService, SendOptions, Transport } from '@fdn/topology';
import type { Codec } from '../codec/codec.ts';
import { ReliableChannels } from '../reliable/reliable-channels.ts';
import type { ReliableFrame, ReliableOptions } from '../reliable/reliable-channels.ts';
import { Kind } from './protocol.ts';
import { ReliableFrames } from './reliable-frames.ts';
import type { Message } from './protocol.ts';
import type { NodeSendStatus } from './options.ts';

/** What the send path needs from its node. */
export interface OutboundHost {
  readonly codec: Codec;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The overlay that opens connections (or relays) to nodes with none. */
  overlay(): PeerService;
  /** Hands an inner message of an at-least-once channel, in order, to the node's dispatcher. */
  deliver(from: string, payload: Buffer): void;
}

/** Sends protocol messages to other nodes (see the file comment). */
export class Outbound {
  /** The at-least-once channels' ends (numbering, store, resends, deduplication). */
  readonly reliable: ReliableChannels;
  /** Channels with at-least-once delivery for every message. */
  readonly #atLeastOnce: ReadonlySet<string>;
  /** Fault injection: nodes nothing is sent to (see `Node.blockNodes`). */
  readonly #blocked = new Set<string>();
  /** Channels with more than one connection per peer: only their sends carry a partition key. */
  readonly #parallel: ReadonlySet<string>;
  /** The at-least-once frames' encoding (a numbered message's header is spliced, not encoded anew). */
  readonly #frames: ReliableFrames;
  #stopped = false;

  constructor(
    private readonly host: OutboundHost,
    atLeastOnce: ReadonlySet<string>,
    reliable: ReliableOptions | undefined,
  ) {
    this.#atLeastOnce = atLeastOnce;
    this.#frames = new ReliableFrames(host.codec, host.transport.self.incarnation);
    const { transport, clock } = host;
    this.#parallel = new Set([...transport.channels].filter(([, c]) => c.parallelism > 1).map(([name]) => name));
    this.reliable = new ReliableChannels(
      {
        incarnation: transport.self.incarnation,
        connectionIncarnation: (node) => transport.connection(node)?.peer.incarnation,
        transmit: (node, channel, seq, inner, peerIncarnation) => this.#transmitReliable(node, channel, this.#frames.numbered(channel, seq, inner, peerIncarnation)),
        transmitAck: (node, channel, incarnation, upTo) => this.#transmitReliable(node, channel, this.#frames.ack(channel, incarnation, upTo)),
        deliver: (node, inner) => {
          host.deliver(node, inner);
        },
        setTimer: (ms, fn) => clock.setTimer(ms, fn),
        clearTimer: (handle) => {
          clock.clearTimer(handle as TimerHandle);
        },
        now: () => clock.now(),
      },
      reliable,
    );
  }

  /**
   * Encodes `message` (throwing FDN_ERR_ENCODE_FAILED in the sender if it cannot) and sends it
   * to `node` on `channel`, in order behind what waits for that node. `reliable`: at-least-once
   * for this message even on a best-effort channel.
   */
  send(node: string, message: Message, channel = DEFAULT_CHANNEL, partitionKey?: number, reliable = false): NodeSendStatus {
    const bytes = this.host.codec.encode(message);
    // A message to a name belongs to whoever holds the name: it survives a restart of that node.
    return this.sendEncoded(node, bytes, channel, partitionKey, reliable, message[0] === Kind.SendNamed);
  }

  /** True when `channel` has several connections per peer (a send's partition key picks one). */
  isParallel(channel: string): boolean {
    return this.#parallel.has(channel);
  }

  /** Sends the same message to each of `nodes`, encoded once. */
  sendToAll(nodes: Iterable<string>, message: Message, channel = DEFAULT_CHANNEL): void {
    let bytes: Buffer | null = null;
    for (const node of nodes) {
      bytes ??= this.host.codec.encode(message);
      this.sendEncoded(node, bytes, channel, undefined, false, message[0] === Kind.SendNamed);
    }
  }

  /** `send` of a message encoded already (a fan-out encodes once for every node). */
  sendEncoded(node: string, bytes: Buffer, channel: string, partitionKey: number | undefined, reliable: boolean, toName: boolean): NodeSendStatus {
    if (this.#stopped || this.#blocked.has(node)) return 'dropped';
    if (reliable || this.#atLeastOnce.has(channel)) return this.reliable.send(node, channel, bytes, toName);
    // One connection: no key to carry (and no object per message).
    const options: SendOptions | undefined = partitionKey === undefined || !this.#parallel.has(channel) ? undefined : { partitionKey };
    // The overlay sends on the connection, or queues in order while it opens one (or relays).
    const status = this.host.overlay().send(node, channel, bytes, options);
    if (status === 'full' || status === 'dropped') this.host.logger.debug(`a message to ${node} on '${channel}' was ${status === 'full' ? 'refused (queue full)' : 'dropped'}`);
    return status === 'unknown' ? 'dropped' : status;
  }

  /** A frame of an at-least-once channel, on the connection if there is one (else it waits for the next connection). */
  #transmitReliable(node: string, channel: string, bytes: Buffer): boolean {
    if (this.#stopped) return false;
    const connection = this.host.transport.connection(node);
    // A connection is up: straight onto it (numbered frames need no queue's order: the receiver takes
    // them in sequence and the unacknowledged come again). No connection: the overlay opens one (or
    // relays); the frame stays unacknowledged meanwhile.
    if (connection?.up !== true) {
      this.host.overlay().send(node, channel, bytes);
      return false;
    }
    const status = connection.send(channel, bytes);
    return status === 'sent' || status === 'backpressure';
  }

  /** A frame of an at-least-once channel arrived: numbered messages are delivered in order, once. */
  receiveReliable(from: string, message: Message, rest: Buffer | null): void {
    const frame = message[1];
    if (!Array.isArray(frame) || typeof frame[1] !== 'string' || !this.host.transport.channels.has(frame[1])) throw new Error('a reliable frame of an unknown channel');
    // A numbered message's bytes follow its header; an ack has none.
    if (frame[0] === 0) {
      if (rest === null) throw new Error('a numbered reliable frame without its message');
      frame[4] = rest;
    } else if (rest !== null) throw new Error('an acknowledgement followed by bytes');
    this.reliable.receive(from, frame as ReliableFrame);
  }

  /** Messages waiting for a connection to open, to every node (in the overlay's queues). */
  waiting(): number {
    return this.host.overlay().waiting();
  }

  block(node: string): void {
    this.#blocked.add(node);
  }

  isBlocked(node: string): boolean {
    return this.#blocked.has(node);
  }

  unblockAll(): void {
    this.#blocked.clear();
  }

  /** Nothing is sent from now on (the node stopped); the at-least-once timers stop too. */
  stop(): void {
    this.#stopped = true;
    this.reliable.stop();
  }

  get stopped(): boolean {
    return this.#stopped;
  }
}
