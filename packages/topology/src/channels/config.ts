// Channel configuration: what each named channel of a connection does (sockets, priority,
// compression, shedding, bounds, chunking), with the defaults and their validation.

import { TopologyError, TopologyErrorCode } from '../errors.ts';

/** What a full channel queue does with a new message. */
export type WhenFull = 'backpressure' | 'dropNewest' | 'dropOldest';

/** Channel priority: higher-priority channels are written first by the sender. */
export type Priority = 'high' | 'normal' | 'low';

/** Options of one named channel, as given in configuration. */
export interface ChannelOptions {
  /** Sockets per peer for this channel (default 1). A partition key picks one: `key % parallelism`. */
  parallelism?: number;
  /** Default `normal`; `control` is `high`, `bulk` is `low`. */
  priority?: Priority;
  /** `deflate`: permessage-deflate on this channel's sockets (costs CPU; for compressible bulk). Default off. */
  compression?: 'deflate' | false;
  /**
   * Latest-wins shedding: a queued message with the same `key` (send option) is replaced by the
   * newer one instead of both being sent. For state that supersedes itself (membership, CRDTs).
   */
  monotonic?: boolean;
  /** Bound of the send queue per socket, in bytes (default 64 MiB; bulk 512 MiB). */
  maxQueueBytes?: number;
  /** Bound of the send queue per socket, in messages (default 1,000,000). */
  maxQueueMessages?: number;
  /**
   * When the queue is full: `backpressure` (default; `send` returns `'full'` and the message is
   * not queued; `'backpressure'` is returned earlier, past half the bound, so callers can slow
   * down before losing anything), or drop the newest / the oldest queued message.
   */
  whenFull?: WhenFull;
  /** Payloads above this size are cut into chunks written one per event-loop turn (default 64 KiB: one socket read; measured best for latency beside bulk). */
  chunkSize?: number;
  /** Open this channel's sockets only when first used (default true; `control` is always eager). */
  lazy?: boolean;
}

/** A channel's options with every default filled in. */
export interface ChannelConfig {
  readonly name: string;
  readonly parallelism: number;
  readonly priority: Priority;
  readonly compression: 'deflate' | false;
  readonly monotonic: boolean;
  readonly maxQueueBytes: number;
  readonly maxQueueMessages: number;
  readonly whenFull: WhenFull;
  readonly chunkSize: number;
  readonly lazy: boolean;
}

/** The channel every connection has: handshake, heartbeats, membership. */
export const CONTROL = 'control';
/** Where messages go when no channel is named. */
export const DEFAULT_CHANNEL = 'default';
/** For large payloads. */
export const BULK = 'bulk';

const MiB = 1024 * 1024;
const KEYS = new Set(['parallelism', 'priority', 'compression', 'monotonic', 'maxQueueBytes', 'maxQueueMessages', 'whenFull', 'chunkSize', 'lazy']);

const BUILT_IN: Record<string, ChannelOptions> = {
  [CONTROL]: { priority: 'high', lazy: false, maxQueueBytes: 16 * MiB },
  [DEFAULT_CHANNEL]: { priority: 'normal' },
  [BULK]: { priority: 'low', maxQueueBytes: 512 * MiB },
};

/**
 * The channels of a node: the built-in `control`, `default` and `bulk`, plus (or overriding)
 * the configured ones. Throws `FDN_ERR_BAD_CONFIG` naming the first invalid option.
 */
export function resolveChannels(configured: Record<string, ChannelOptions> = {}): Map<string, ChannelConfig> {
  const out = new Map<string, ChannelConfig>();
  const names = new Set([...Object.keys(BUILT_IN), ...Object.keys(configured)]);
  for (const name of names) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw bad(`channel name '${name}' must be 1–64 letters, digits, '_', '.' or '-'`);
    out.set(name, normalize(name, { ...BUILT_IN[name], ...configured[name] }));
  }
  return out;
}

function normalize(name: string, o: ChannelOptions): ChannelConfig {
  for (const key of Object.keys(o)) if (!KEYS.has(key)) throw bad(`channel '${name}': unknown option '${key}' (expected ${[...KEYS].join(', ')})`);
  const parallelism = o.parallelism ?? 1;
  if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > 64) throw bad(`channel '${name}': parallelism must be an integer from 1 to 64`);
  if (name === CONTROL && parallelism !== 1) throw bad(`channel '${CONTROL}' has exactly one socket`);
  const priority = o.priority ?? 'normal';
  if (!['high', 'normal', 'low'].includes(priority)) throw bad(`channel '${name}': priority must be 'high', 'normal' or 'low'`);
  const compression: unknown = o.compression ?? false;
  if (compression !== false && compression !== 'deflate') throw bad(`channel '${name}': compression must be 'deflate' or false`);
  const maxQueueBytes = o.maxQueueBytes ?? 64 * MiB;
  const maxQueueMessages = o.maxQueueMessages ?? 1_000_000;
  if (!(maxQueueBytes > 0) || !(maxQueueMessages > 0)) throw bad(`channel '${name}': queue bounds must be positive`);
  const whenFull = o.whenFull ?? 'backpressure';
  if (!['backpressure', 'dropNewest', 'dropOldest'].includes(whenFull)) throw bad(`channel '${name}': whenFull must be 'backpressure', 'dropNewest' or 'dropOldest'`);
  const chunkSize = o.chunkSize ?? 64 * 1024;
  if (!Number.isInteger(chunkSize) || chunkSize < 1024 || chunkSize > 16 * MiB) throw bad(`channel '${name}': chunkSize must be an integer from 1 KiB to 16 MiB`);
  const lazy = name === CONTROL ? false : (o.lazy ?? true);
  return { name, parallelism, priority, compression, monotonic: o.monotonic === true, maxQueueBytes, maxQueueMessages, whenFull, chunkSize, lazy };
}

function bad(message: string): TopologyError {
  return new TopologyError(TopologyErrorCode.BAD_CONFIG, message);
}
