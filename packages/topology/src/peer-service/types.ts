// The PeerService interface: who is in the cluster, whom this node keeps connections to, and how a
// message reaches any member. FullMesh, HyParView, ClientServer and Static all implement every
// operation (Partisan's HyParView answers `not_implemented` to several).

import type { NodeIdentity } from '../node/identity.ts';
import type { SendOptions, SendStatus } from '../transport/types.ts';

/** How to reach a node: its name and where it listens. */
export interface PeerSpec {
  name: string;
  addresses: readonly string[];
}

/** Why a member or neighbour went away. */
export interface DownReason {
  /** `left` (it said goodbye), `unreachable` (its connection failed), `expired` (not heard of for too long), `replaced` (restarted). */
  kind: 'left' | 'unreachable' | 'expired' | 'replaced';
  message: string;
}

/**
 * Events of a peer service. `up` and `down` alternate per node: `up` when a member becomes
 * reachable from this node, `down` when it stops being (it left, failed, or its connection broke).
 * FullMesh, Static and ClientServer keep a member whose connection broke (they redial it), so it can go
 * down and up again; HyParView reports members as reachable through the overlay.
 */
export interface PeerServiceEvents {
  up: (node: string) => void;
  down: (node: string, reason: DownReason) => void;
  /** The member list changed. */
  membership: (members: readonly string[]) => void;
  /** An overlay connection came up (the broadcast layer builds its trees on these). */
  neighborUp: (node: string) => void;
  /** An overlay connection went away. */
  neighborDown: (node: string) => void;
}

/** What `forward` did. `unknown`: this node has no way to reach that member. */
export type ForwardStatus = SendStatus | 'unknown';

/** Receives a message forwarded to this node: `from` is the node that sent it (not a relay). */
export type PeerMessageHandler = (from: string, payload: Buffer) => void;

/** The peer service of a node. */
export interface PeerService {
  /** Which overlay this is: `fullMesh`, `hyparview`, `clientServer`, `static`. */
  readonly kind: string;
  /** This node. */
  readonly self: NodeIdentity;
  /** Starts the transport and the overlay's timers. Starting twice is harmless. */
  start(): Promise<void>;
  /** Stops the overlay and the transport. Harmless twice or before start; no events after. */
  stop(): Promise<void>;
  /** Stops the overlay but not the transport: its connections stay for the overlay that replaces it. */
  detach(): Promise<void>;
  /** While another overlay shares the connections (a switch), close none that it could use. */
  setHandover(on: boolean): void;
  /**
   * Joins the cluster through `contact` (a spec or an address). Resolves once this node has at
   * least one neighbour; rejects (`FDN_ERR_CONNECT_FAILED`) if the contact cannot be reached.
   */
  join(contact: PeerSpec | string): Promise<void>;
  /** Leaves the cluster: tells the neighbours, closes the connections. The node can join again. */
  leave(): Promise<void>;
  /** The nodes this node knows to be in the cluster, itself included, sorted. */
  members(): string[];
  /** How many members (`members().length` without building the list). */
  memberCount(): number;
  /** The nodes this node keeps overlay connections to, sorted. */
  neighbors(): string[];
  /**
   * Sends `payload` on `channel` to the member `node`: over the connection if there is one, else as
   * the overlay allows (an on-demand connection, or a relay through a server).
   */
  forward(node: string, channel: string, payload: Uint8Array, options?: SendOptions): Promise<ForwardStatus>;
  /**
   * Sends `payload` to the member `node` now, in order with what was sent to it before: on its
   * connection if there is one (the connection's status), else `queued` behind what already waits for that
   * node while the overlay opens an on-demand connection or relays (what cannot be delivered is then
   * dropped and logged); `unknown` if this overlay is not running or `node` is this node.
   */
  send(node: string, channel: string, payload: Uint8Array, options?: SendOptions): SendStatus | 'queued' | 'unknown';
  /** Messages waiting in `send`'s queues for a connection to open, to every node. */
  waiting(): number;
  /**
   * Receives what other nodes `forward` on `channel` (any channel but `control`, which the
   * overlays use). One handler per channel; a later call replaces the earlier.
   */
  onMessage(channel: string, handler: PeerMessageHandler): void;
  /**
   * The application has reason to think `node` is down (another overlay or a failure detector
   * lost it). Overlays that learn liveness only from their own connections (HyParView's directory of
   * members it has no connection to) spread the report; the node refutes it if it lives. Others ignore it.
   */
  suspect(node: string): void;
  /** How joining through the configured seeds goes (a node that joins nobody says so here). */
  joinStatus(): JoinStatus;
  /** How to reach `node` (its addresses), if this node knows. */
  spec(node: string): PeerSpec | undefined;
  /** True when `node` is a member this node can reach now (it was reported `up` and not yet `down`). */
  isUp(node: string): boolean;
  on<E extends keyof PeerServiceEvents>(event: E, listener: PeerServiceEvents[E]): () => void;
}

/** How a peer service's joining through its seeds goes. */
export interface JoinStatus {
  /** Seeds configured (0: a cluster of its own until someone joins it). */
  seeds: number;
  /** Rounds in which no seed answered. */
  attempts: number;
  /** The last seed's failure, as `seed: reason`. */
  lastFailure: string | null;
  /** Connected to at least one other member. */
  joined: boolean;
}
