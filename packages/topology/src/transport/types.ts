// The Transport interface: connections to peers, named channels on each connection, backpressure, and connection
// up/down events. Implemented over real WebSockets and by the network simulator; one compliance
// suite holds both to the same behaviour.

import type { ChannelConfig } from '../channels/config.ts';
import type { Address, NodeIdentity } from '../node/identity.ts';

/**
 * What `send` did with a message:
 * - `sent`: queued (or written) normally;
 * - `backpressure`: queued, but the queue is past half its bound: slow down (see `whenWritable`);
 * - `full`: not queued: the queue is at its bound and the channel applies backpressure;
 * - `dropped`: not queued: the channel sheds load (`dropNewest`), or the connection is down.
 * With `dropOldest`, the new message is queued (`sent`) and the oldest one is dropped instead.
 */
export type SendStatus = 'sent' | 'backpressure' | 'full' | 'dropped';

/** Options of one send. */
export interface SendOptions {
  /**
   * Picks the socket of a parallel channel (`key % parallelism`): messages with the same key
   * stay in order. Callers pass a stable key per (sender, receiver) pair; default 0.
   */
  partitionKey?: number;
  /** On a monotonic channel, a queued message with the same key is replaced by this one. */
  key?: string | number;
}

/** Why a connection went down. */
export interface ConnectionDownReason {
  /**
   * `closed` (this node closed it), `peer_closed` (the peer closed it), `lost` (the connection
   * broke: the peer crashed or the network failed), `idle_timeout` (no heartbeat), `replaced`
   * (the peer restarted with a new incarnation), `refused` (the peer refused it), `shutdown`
   * (this node stopped).
   */
  kind: 'closed' | 'peer_closed' | 'lost' | 'idle_timeout' | 'replaced' | 'refused' | 'shutdown';
  /** The WebSocket close code, when there was one. */
  closeCode?: number;
  /** Human-readable detail. */
  message: string;
}

/** Counters of one channel of one connection (all its sockets). */
export interface ChannelMetrics {
  channel: string;
  messagesOut: number;
  bytesOut: number;
  messagesIn: number;
  bytesIn: number;
  /** Messages waiting in the send queues now. */
  queuedMessages: number;
  /** Bytes waiting in the send queues now. */
  queuedBytes: number;
  /** Messages dropped or refused because a queue was full or the connection down. */
  dropped: number;
  /** Smoothed time from `send` until the bytes were handed to the socket, in ms. */
  sendLatencyMs: number;
  /**
   * The same time as a histogram: for each write of queued messages to the socket, how long its
   * oldest message had waited. `counts[i]` are the writes within `SEND_LATENCY_BUCKETS_MS[i]` and
   * above the bucket before (the last: above every bound); `sumMs` their total.
   */
  sendLatency?: { counts: number[]; sumMs: number };
  /** Sockets currently open. */
  sockets: number;
}

/** A connection to one peer: its channels share its authentication and its life. */
export interface Connection {
  /** The peer, as it introduced itself in the handshake. */
  readonly peer: NodeIdentity;
  /** False once the connection went down; a down connection never comes back (connect again for a new one). */
  readonly up: boolean;
  /** Sends `payload` on `channel`. Payload bytes must not be changed after the call. */
  send(channel: string, payload: Uint8Array, options?: SendOptions): SendStatus;
  /** Resolves when `channel`'s queue for `partitionKey` is below half its bound (or the connection is down). */
  whenWritable(channel: string, partitionKey?: number): Promise<void>;
  /** Stops reading `channel` from this peer (TCP backpressure reaches the sender), until `resume`. */
  pause(channel: string): void;
  resume(channel: string): void;
  /** Counters of one channel. */
  metrics(channel: string): ChannelMetrics;
  /** Smoothed round-trip time of control-channel pings, in ms (undefined before the first pong). */
  readonly rttMs: number | undefined;
  /**
   * The failure detector's suspicion of the peer now (φ accrual: the silence since it was last
   * heard, against the rhythm of its heartbeats; the connection is dropped above the threshold, 8 by
   * default); undefined with no detector or before enough heartbeats.
   */
  readonly phi: number | undefined;
  /** Closes the connection (code CLOSED_BY_PEER to the peer, or `code`, e.g. PROTOCOL_ERROR); `connectionDown` fires with kind `closed`. */
  close(message?: string, code?: number): void;
}

/** Receives a message that arrived on a channel. The payload is a view; copy it to keep it past the call if its buffer may be reused (it is not, today). */
export type MessageHandler = (connection: Connection, payload: Buffer) => void;

/** Transport events. */
export interface TransportEvents {
  /** A connection came up (dialled or accepted), after authentication. */
  connectionUp: (connection: Connection) => void;
  /** A connection went down; it will not come back (a new connection may form). */
  connectionDown: (connection: Connection, reason: ConnectionDownReason) => void;
}

/** Connections to peers over one kind of network. */
export interface Transport {
  /** This node. Addresses are known once `start` resolved. */
  readonly self: NodeIdentity;
  /** The channel configurations of this node. */
  readonly channels: ReadonlyMap<string, ChannelConfig>;
  /** Starts listening (if configured). Starting twice is harmless. */
  start(): Promise<void>;
  /** Closes every connection (peers see SHUTDOWN) and stops listening. Harmless before start or twice; no events after. */
  stop(): Promise<void>;
  /**
   * A connection to the node at `address`, dialling if there is none. Resolves once authenticated.
   * `expectedName` makes the dial fail (`WRONG_NODE`) if another node answers.
   */
  connect(address: Address, expectedName?: string): Promise<Connection>;
  /** The live connection to the node named `name`, if any. */
  connection(name: string): Connection | undefined;
  /** All live connections. */
  connections(): Connection[];
  /** Registers the receiver of `channel`'s messages (one per channel; a second replaces the first). */
  onMessage(channel: string, handler: MessageHandler): void;
  on<E extends keyof TransportEvents>(event: E, listener: TransportEvents[E]): () => void;
}
