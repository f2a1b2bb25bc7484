// A node's channels: the transport's options plus what this layer adds (delivery and broadcast).

import type { ChannelOptions, Transport } from '@fdn/topology';
import type { ReliableChannels } from '../reliable/reliable-channels.ts';
import { DistributionError, DistributionErrorCode } from '../errors/errors.ts';
import type { NodeChannelMetrics, NodeChannelOptions } from './options.ts';

/** @internal The transport's part of the channel options (reliability and broadcast are this layer's). */
export function transportChannels(channels: Record<string, NodeChannelOptions>): Record<string, ChannelOptions> {
  const out: Record<string, ChannelOptions> = {};
  for (const [name, { reliability, broadcast, ...rest }] of Object.entries(channels)) {
    if (broadcast !== undefined && !['direct', 'plumtree'].includes(broadcast)) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `channel '${name}': broadcast must be 'direct' or 'plumtree'`);
    if (reliability !== undefined && !['best_effort', 'at_least_once'].includes(reliability)) {
      throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `channel '${name}': reliability must be 'best_effort' or 'at_least_once'`);
    }
    out[name] = rest;
  }
  return out;
}

/** The error of a send or broadcast on a channel this node does not have. */
export function unknownChannel(channel: string, channels: Iterable<string>): DistributionError {
  const known = [...channels].filter((c) => c !== 'control');
  return new DistributionError(DistributionErrorCode.BAD_ARGUMENT, `unknown channel '${channel}' (this node has ${known.join(', ')}); add it to the node's \`channels\` option, the same on every node`);
}

/** A channel's figures summed over the connections, with its at-least-once counters. */
export function channelMetrics(transport: Transport, reliable: ReliableChannels, channel: string): NodeChannelMetrics {
  const sum: NodeChannelMetrics = { channel, messagesOut: 0, bytesOut: 0, messagesIn: 0, bytesIn: 0, queuedMessages: 0, queuedBytes: 0, dropped: 0, unacknowledged: reliable.unacked(undefined, channel), ...reliable.counters(channel), connections: 0 };
  for (const connection of transport.connections()) {
    const m = connection.metrics(channel);
    sum.messagesOut += m.messagesOut;
    sum.bytesOut += m.bytesOut;
    sum.messagesIn += m.messagesIn;
    sum.bytesIn += m.bytesIn;
    sum.queuedMessages += m.queuedMessages;
    sum.queuedBytes += m.queuedBytes;
    sum.dropped += m.dropped;
    sum.connections++;
  }
  return sum;
}
