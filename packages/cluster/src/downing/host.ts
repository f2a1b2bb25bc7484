// What the split brain resolver needs of its node: who it is, who it is connected to, a way to
// talk to the resolvers of the others, and what to do to a member that is downed (keep it out)
// and to itself (stop). `nodeDowningHost` makes one of an @fdn/distribution Node: the resolvers
// talk through a process registered as `fdn_sbr` on every node.

import type { Clock, Logger, Telemetry } from '@fdn/core';
import { systemClock } from '@fdn/core';
import type { Node, NodeEvent } from '@fdn/distribution';

export interface DowningHost {
  readonly name: string;
  readonly incarnation: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly telemetry: Telemetry;
  /** The members this node has a live connection to now. */
  connected(): string[];
  onNodeEvent(listener: (event: NodeEvent) => void): () => void;
  /** Sends `message` to `node`'s resolver (best effort). */
  send(node: string, message: unknown): void;
  /** Receives what other resolvers send; returns a function that stops receiving. */
  receive(handler: (message: unknown) => void): () => void;
  /** A member was downed: drop its connection. */
  disconnect(node: string): void;
  /** This node was downed: stop it (or what `whenDowned` says). */
  downSelf(reason: string): void;
}

/** The name the resolver's process is registered under on every node. */
export const RESOLVER_NAME = 'fdn_sbr';

/**
 * A host for an @fdn/distribution node. `whenDowned`: `stop` (default: the node stops in order,
 * its processes' terminate callbacks run), `exit` (stop, then exit the OS process with code 1, so a
 * supervisor such as Kubernetes starts it again as a new incarnation), or your own function.
 */
export function nodeDowningHost(node: Node, options: { clock?: Clock; whenDowned?: 'stop' | 'exit' | ((reason: string) => void) } = {}): DowningHost {
  const handlers = new Set<(message: unknown) => void>();
  node.runtime.spawn(
    async (ctx) => {
      for (;;) {
        const message = await ctx.receive();
        for (const h of handlers) h(message);
      }
    },
    { name: RESOLVER_NAME },
  );
  const whenDowned = options.whenDowned ?? 'stop';
  return {
    name: node.name,
    incarnation: node.transport.self.incarnation,
    clock: options.clock ?? systemClock(),
    logger: node.logger,
    telemetry: node.runtime.telemetry,
    connected: () => node.nodes(),
    onNodeEvent: (listener) => node.onNodeEvent(listener),
    send: (to, message) => {
      node.send({ name: RESOLVER_NAME, node: to }, message);
    },
    receive: (handler) => {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    disconnect: (name) => {
      node.disconnect(name);
    },
    downSelf: (reason) => {
      if (typeof whenDowned === 'function') { whenDowned(reason); return; }
      void node.stop().then(() => {
        if (whenDowned === 'exit') process.exit(1);
      });
    },
  };
}
