// What the cluster needs of the node it forms a cluster for: libcluster's `connect`,
// `disconnect` and `list_nodes` hooks, plus who the node is. `nodeHost` makes one of an
// @fdn/distribution Node; pass your own to run discovery over something else.

import type { Clock, Logger, Random, Telemetry } from '@fdn/core';
import { systemClock } from '@fdn/core';
import type { Node } from '@fdn/distribution';
import type { Peer } from '../strategy/strategy.ts';

export interface ClusterHost {
  readonly name: string;
  /** Where other nodes reach this one (a strategy leaves these out, gossip announces them). */
  readonly addresses: readonly string[];
  /** HMAC-SHA256 under the cluster secret (gossip signs with it). */
  mac?(purpose: string, data: Uint8Array): Buffer;
  /** Joins the cluster through `peer` (libcluster's `connect`); rejects when it cannot be reached. */
  connect(peer: Peer): Promise<void>;
  /** Drops the connection to `node` (libcluster's `disconnect`); false when there was none. */
  disconnect(node: string): boolean;
  /** The other nodes this node is connected to (libcluster's `list_nodes`). */
  nodes(): string[];
  /** The name of the connected node that listens at `address`, if there is one. */
  nodeAt(address: string): string | undefined;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly telemetry: Telemetry;
}

/** A host for an @fdn/distribution node (`clock`: the node's own when it runs on a virtual one). */
export function nodeHost(node: Node, clock: Clock = systemClock()): ClusterHost {
  return {
    name: node.name,
    get addresses() {
      return node.addresses;
    },
    mac: (purpose, data) => node.mac(purpose, data),
    // By address: the name a strategy guessed (basename@ip) is only a guess; the handshake says the real one.
    connect: (peer) => node.join(peer.address),
    disconnect: (name) => node.disconnect(name),
    nodes: () => node.nodes(),
    nodeAt: (address) => node.nodes().find((n) => node.overlay.spec(n)?.addresses.includes(address) === true),
    clock,
    random: node.random,
    logger: node.logger,
    telemetry: node.runtime.telemetry,
  };
}
