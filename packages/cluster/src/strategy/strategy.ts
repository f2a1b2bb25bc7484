// The discovery Strategy: a source of the cluster's other nodes (a host list, UDP announcements,
// DNS records, the Kubernetes API). A strategy only says who is there; the cluster (cluster.ts)
// decides what to connect. Every strategy takes the shape `(init) => (components) => Strategy`
// and passes the compliance suite (test/compliance.ts).

import type { Clock, Logger, Random } from '@fdn/core';
import type { ClusterError } from '../errors.ts';

/** A node a strategy found: where it listens (`ws://host:port`) and its name when the source says it. */
export interface Peer {
  address: string;
  name?: string;
}

/** Events of a strategy. */
export interface StrategyEvents {
  /** The set of peers changed (sorted by address, no duplicates, this node left out). */
  peers: (peers: readonly Peer[]) => void;
  /** Asking the source failed (the strategy keeps its last peers and tries again with backoff). */
  error: (error: ClusterError) => void;
}

/** What a strategy is given by the cluster it runs in. */
export interface StrategyComponents {
  /** This node: its name and where it is reached, so a strategy can leave itself out and announce itself. */
  self: { name: string; addresses: readonly string[] };
  /** HMAC-SHA256 under the cluster secret (`Node.mac`), for strategies that authenticate what they hear (gossip); the secret itself stays in the node. */
  mac?: ((purpose: string, data: Uint8Array) => Buffer) | undefined;
  clock: Clock;
  random: Random;
  logger: Logger;
}

/** A discovery strategy. */
export interface Strategy {
  /** Which strategy: `static`, `gossip`, `dnsPoll`, `dnsSrv`, `kubernetes`, or one of yours. */
  readonly kind: string;
  /** Starts discovering. Resolves after the first look at the source (whatever it answered: failures are `error` events, not rejections). Twice is harmless. */
  start(): Promise<void>;
  /** Stops: no events after it resolves. Twice, or before start, is harmless. */
  stop(): Promise<void>;
  /** The peers found so far (sorted by address). */
  peers(): readonly Peer[];
  on<E extends keyof StrategyEvents>(event: E, listener: StrategyEvents[E]): () => void;
}

/** A configured strategy, waiting for its components. */
export type StrategyFactory = (components: StrategyComponents) => Strategy;
