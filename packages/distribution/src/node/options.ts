// What a node is configured with, and the shapes of its public answers.

import type { Clock, Logger, LogLevel, Random } from '@fdn/core';
import type { fullMesh, ChannelMetrics, ChannelOptions, ClientServerOptions, FullMeshOptions, HiddenOptions, HyParViewOptions, PeerService, PhiAccrualOptions, StaticOptions, PeerSpec, TlsOptions, Transport } from '@fdn/topology';
import type { CheckpointStore } from '../checkpoint/store.ts';
import type { ReliableOptions } from '../reliable/reliable-channels.ts';
import type { SpawnLimits } from '../spawn/spawn-limits.ts';
import type { SwitchOptions } from '../switching/switcher.ts';

/** What an overlay is built from: the node's transport, clock, randomness and logger. */
export type OverlayComponents = Parameters<ReturnType<typeof fullMesh>>[0];

/** A user-written overlay: given the node's transport, clock, randomness and logger, a running-to-be PeerService (the shape of `fullMesh(init)` in @fdn/topology). */
export type OverlayFactory = (components: OverlayComponents) => PeerService;

/** Which overlay, and its options, or a factory of your own. */
export type OverlayConfig =
  | 'fullMesh'
  | 'hyparview'
  | ({ kind: 'fullMesh' } & FullMeshOptions)
  | ({ kind: 'hyparview'; directory?: boolean } & HyParViewOptions)
  | ({ kind: 'clientServer' } & ClientServerOptions)
  | ({ kind: 'static' } & StaticOptions)
  /**
   * Attached to the cluster without being part of it (Erlang's hidden node: what the `fdn` command
   * runs): connects to its seeds only, never a member, a neighbour or a place for work.
   */
  | 'hidden'
  | ({ kind: 'hidden' } & HiddenOptions)
  /** HyParView with every channel's broadcasts on a Plumtree tuned for event traffic. */
  | 'pubSub'
  | ({ kind: 'pubSub'; directory?: boolean } & HyParViewOptions)
  | OverlayFactory;

/**
 * A node's options. Every key is checked against the schema (`config/schema.ts`) before anything
 * starts: an unknown key or a bad value is FDN_ERR_BAD_CONFIG naming it. `startNode` fills what is
 * left out from the environment (FDN_NAME, FDN_SECRET or FDN_SECRET_FILE, FDN_LISTEN, FDN_SEEDS).
 */
export interface NodeOptions {
  /** Unique in the cluster: letters, digits, `_`, `-`, `.`, `@` (or FDN_NAME). */
  name?: string | undefined;
  /** The cluster's shared secret, at least 8 characters or bytes, never sent: each connection proves it with an HMAC (or FDN_SECRET / FDN_SECRET_FILE). */
  secret?: string | Uint8Array | undefined;
  /** Where to listen (default 127.0.0.1, an ephemeral port; `false` for a node that only dials; or FDN_LISTEN). */
  listen?: { host?: string; port?: number; backlog?: number } | false;
  /** Nodes to join through: addresses (`ws://127.0.0.1:4370`) or specs (or FDN_SEEDS, comma-separated). */
  seeds?: readonly (string | PeerSpec)[];
  /** The overlay (default `fullMesh`). */
  overlay?: OverlayConfig;
  /**
   * Channels besides control, default and bulk (or overriding them), each with the transport's
   * options plus `reliability`: `best_effort` (default: what the connection delivers) or `at_least_once`
   * (numbered, acknowledged, resent after a reconnect, deduplicated: neither lost nor doubled
   * while both nodes live).
   */
  channels?: Record<string, NodeChannelOptions>;
  /** Bounds of the at-least-once store (per peer and channel). */
  reliable?: ReliableOptions;
  /** Remote spawns wait this long for an answer (default 5,000 ms). */
  spawnTimeoutMs?: number;
  /**
   * A dropped connection that comes back to the same start of the node within this long is not a
   * node loss: no nodedown, process links and monitors stay (default 0: every drop is a loss, as in Erlang).
   * Best-effort messages sent meanwhile may be lost; at-least-once ones are not.
   */
  reconnectGraceMs?: number;
  /**
   * The application's version this node runs (`2.4.1`, or FDN_APP_VERSION), told to every peer in
   * the handshake: during a rolling upgrade, ecosystems place new workers on the nodes of the newest
   * version (compared number by number: `1.10.0` is newer than `1.9.2`).
   */
  appVersion?: string;
  /** Addresses other nodes should dial to reach this one, when not where it listens (behind a proxy, NAT, a Kubernetes Service). */
  advertise?: readonly string[];
  /** Bounds on what spawns (remote ones above all) can make this node hold: see {@link SpawnLimits}. */
  spawnLimits?: SpawnLimits;
  /**
   * Where this node keeps the checkpoints of the failover ecosystems it is a candidate for: a
   * directory of its own choosing (default `fdn-ecosystems` in the OS temp dir). Never chosen by
   * another node. `checkpointStore` replaces it with any `CheckpointStore`.
   */
  checkpointDir?: string;
  checkpointStore?: CheckpointStore;
  /** How often this node reports its load to the others (default 1,000 ms; 0: never). */
  loadReportMs?: number;
  /** Topology switching: verification timeout, cooldown of automatic switches, and the servers of a client-server overlay (default: the first √n nodes by name). */
  topology?: SwitchOptions & { servers?: string[] };
  /**
   * Failure detection: heartbeats on the control channel every `heartbeatMs` (default 1,000), judged
   * by a φ accrual detector (default threshold 8, acceptable pause 3,000 ms; `false` for a plain
   * idle timeout). A SIGKILLed node is known at once (its sockets close); a frozen or cut-off one
   * after about heartbeat + pause + a few deviations (~5 s at the defaults).
   */
  failureDetector?: PhiAccrualOptions | false;
  heartbeatMs?: number;
  /**
   * A transport to run on instead of WebSockets (the simulator's `SimNetwork.transport(...)`, so a
   * whole cluster of nodes runs deterministically on a virtual clock). `listen`, `channels`'
   * transport options, `failureDetector` and `heartbeatMs` are then the transport's business.
   */
  transport?: Transport;
  /** TLS for every connection (wss): this node's key and certificate, the CA to trust, and `mutual` to require certificates from nodes that dial in. */
  tls?: TlsOptions;
  /**
   * Stop in order on SIGTERM and SIGINT (`node.stop()`: terminate callbacks run, supervisors stop
   * their children, the node leaves the cluster), then exit with 0. Default false: the process's
   * signals are the application's to decide.
   */
  handleSignals?: boolean;
  /**
   * An orderly stop first hands off what features run here (ecosystem worker slots move to other
   * nodes, started there before they stop here) and waits at most this long for it (default 10,000 ms).
   */
  drainTimeoutMs?: number;
  /** The default logger's level, when no `logger` is given (default `warn`; FDN_LOG_LEVEL). */
  logLevel?: LogLevel;
  /** The default logger's format, when no `logger` is given: `json` (pino, one object per line, bound to the node's name; default) or `text` (FDN_LOG_FORMAT). */
  logFormat?: 'json' | 'text';
  clock?: Clock;
  random?: Random;
  logger?: Logger;
}

/** A channel's delivery: what the connection delivers, or numbered, acknowledged and resent. */
export type Reliability = 'best_effort' | 'at_least_once';

/** A channel as a node sees it: the transport's options, plus delivery and broadcast choices. */
export type NodeChannelOptions = ChannelOptions & {
  reliability?: Reliability;
  /** How `broadcast` on this channel reaches the nodes: a send to each (`direct`), or Plumtree over the overlay (default: `plumtree` under HyParView, else `direct`). */
  broadcast?: 'direct' | 'plumtree';
};

/** A channel's figures, summed over the connections (see `getChannelMetrics`). */
export type NodeChannelMetrics = Omit<ChannelMetrics, 'sendLatencyMs' | 'sockets'> & {
  /** At-least-once channels: messages not yet acknowledged. */
  unacknowledged: number;
  /** At-least-once channels: messages sent again (on a new connection, or after silence). */
  resent: number;
  /** At-least-once channels: messages received again and dropped (delivered once already). */
  duplicatesDropped: number;
  /** At-least-once channels: messages received past a gap and dropped (they come again, in order). */
  gapsDropped: number;
  /** Connections (one per peer) the figures were summed over. */
  connections: number;
};

/** Options of a send to a pid or name on any node. */
export interface NodeSendOptions {
  /** The channel (default `default`). Messages of one (sender, receiver) pair keep their order per channel. */
  channel?: string;
  /** Picks the channel's connection (default: the receiver, so one pair's messages never reorder). */
  partitionKey?: number;
  /** `at_least_once` for this message even on a best-effort channel (default: the channel's). */
  reliability?: Reliability;
}

/**
 * What a send to another node did: `sent` (queued on the connection), `backpressure` (queued, but the
 * connection's queue is over half full: slow down, see `whenWritable`), `full` or `dropped` (not sent:
 * the channel's queue is full, per its policy), `queued` (waiting for a connection to open), `local`.
 */
export type NodeSendStatus = 'sent' | 'backpressure' | 'full' | 'dropped' | 'queued' | 'local';

/** A cluster node event. */
export type NodeEvent = { type: 'nodeup'; node: string } | { type: 'nodedown'; node: string; reason: string };

/** Options of `node.spawn`. */
export interface RemoteSpawnOptions {
  /** Link the new process to `ctx`'s process (done on the target node before it runs, so no exit is missed). */
  link?: boolean;
  /** Monitor it from `ctx`'s process; the returned `ref` is the monitor's. */
  monitor?: boolean;
  /** Default: the node's `spawnTimeoutMs`. */
  timeoutMs?: number;
}


