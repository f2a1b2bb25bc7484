// A node's channels: the transport's options plus what this layer adds (delivery and broadcast).

import type { ChannelOptions } from '@fdn/topology';
import { DistributionError, DistributionErrorCode } from '../errors/errors.ts';
import type { NodeChannelOptions } from './options.ts';

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
