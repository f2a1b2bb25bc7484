// Where a node's `send` and `broadcast` go: a global name resolved to its pid, a remote pid or
// `{ name, node }` onto its connection (on the routed channel, with the partition key of the pair),
// anything local into the runtime.

import { isGlobalName, Pid } from '@fdn/actors';
import type { Dest } from '@fdn/actors';
import { DEFAULT_CHANNEL } from '@fdn/topology';
import { DistributionError, DistributionErrorCode } from '../errors/errors.ts';
import { nameHash, pairPartition } from '../signals/remote-signals.ts';
import type { NodeParts } from './assemble.ts';
import { unknownChannel } from './channels.ts';
import type { NodeSendOptions, NodeSendStatus } from './options.ts';
import { Kind } from './protocol.ts';

/** Sends `msg` from outside any process of the node `self` (see `Node.send`). */
export function sendFrom(parts: NodeParts, self: string, dest: Dest, msg: unknown, options: NodeSendOptions): NodeSendStatus {
  const channel = options.channel ?? parts.routes.route(msg) ?? DEFAULT_CHANNEL;
  const reliable = options.reliability === 'at_least_once';
  if (isGlobalName(dest)) {
    const pid = parts.global.whereis(dest.global);
    if (pid === undefined) throw new DistributionError(DistributionErrorCode.NOT_REGISTERED, `no process is registered globally as '${dest.global}'; check whereisGlobal() first or send to a pid`);
    return sendFrom(parts, self, pid, msg, options);
  }
  const outbound = parts.outbound;
  // The default partition key (the receiver, for a send from outside any process) only where a channel has several connections.
  if (dest instanceof Pid && dest.node !== self) return outbound.send(dest.node, [Kind.Send, dest, msg], channel, options.partitionKey ?? (outbound.isParallel(channel) ? pairPartition(null, dest.id) : undefined), reliable);
  if (typeof dest === 'object' && !(dest instanceof Pid) && dest.node !== self) return outbound.send(dest.node, [Kind.SendNamed, dest.name, msg], channel, options.partitionKey ?? (outbound.isParallel(channel) ? pairPartition(null, nameHash(dest.name)) : undefined), reliable);
  parts.runtime.send(dest, msg);
  return 'local';
}

/** Sends `msg` to the process registered as `name` on every node, this one included (see `Node.broadcast`). */
export function broadcastFrom(parts: NodeParts, nodes: readonly string[], name: string, msg: unknown, channelOption: string | undefined): void {
  const channel = channelOption ?? parts.routes.route(msg) ?? DEFAULT_CHANNEL;
  if (!parts.transport.channels.has(channel) || channel === 'control') throw unknownChannel(channel, parts.transport.channels.keys());
  if (parts.overlays.viaPlumtree(channel)) parts.overlays.broadcast(channel, parts.codec.encode([Kind.SendNamed, name, msg]));
  else parts.outbound.sendToAll(nodes, [Kind.SendNamed, name, msg], channel);
  parts.endpoint.deliver(name, msg);
}
