// What an application gives Plumtree for each kind of broadcast (Partisan's
// partisan_plumtree_broadcast_handler behaviour, in TypeScript).

/** How a delivery reached this node. */
export interface DeliveryInfo {
  /** The neighbour that sent it. */
  from: string;
  /** The root of its tree: the node that broadcast it, or `*<handler>` for a shared tree. */
  root: string;
  /** Hops before this one (0: sent by the root itself). */
  round: number;
}

/**
 * A broadcast handler: names the kind of message, turns a message into an id and a payload, and
 * keeps the messages it has seen (for deduplication, grafts and anti-entropy). Payloads must be
 * plain data (they are encoded with msgpack between real nodes).
 */
export interface BroadcastHandler<M = unknown, P = unknown> {
  /** Identifies the handler on every node (Partisan's handler module name). */
  readonly name: string;
  /** Channel for this handler's traffic (default `control`). */
  readonly channel?: string;
  /**
   * `perRoot` (default): a tree per broadcasting node, the shortest paths; the first broadcast of
   * each node floods the overlay once. `shared`: one tree for all this handler's messages, from
   * whichever node: no flood per sender, longer paths. For many senders of small messages that can
   * wait a few more hops (membership, announcements).
   */
  readonly tree?: 'perRoot' | 'shared';
  /**
   * What anti-entropy repairs here is pushed on to every other neighbour once (default true): a
   * part of the overlay that missed a message gets it quickly. Turn off for state whose own
   * exchanges already reach everyone (a directory), so a joining node pulling the state does not
   * flood it back.
   */
  readonly floodRepairs?: boolean;
  /** The id and payload of a message this node broadcasts. */
  broadcastData(message: M): { id: string; payload: P };
  /**
   * Delivers a received payload; returns false if it was already known (then Plumtree prunes the
   * sender). `info` is reused from call to call: copy what you keep.
   */
  merge(id: string, payload: P, info: DeliveryInfo): boolean;
  /** True if `id` is already known (an IHAVE for it needs no graft). */
  isStale(id: string): boolean;
  /** The payload of `id` for a neighbour that asks for it, `stale` if no longer kept. */
  graft(id: string): { ok: P } | 'stale';
  /** Ids of recent messages, for the built-in anti-entropy exchange (omit to skip exchanges). */
  digest?(): string[];
  /**
   * A custom anti-entropy exchange with `peer` (Partisan's `exchange/1`); when present it is used
   * instead of the built-in digest exchange. Resolve when done.
   */
  exchange?(peer: string): Promise<void>;
}
