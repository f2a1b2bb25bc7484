// A simulated network for deterministic tests and large simulations: nodes are SimTransports on a
// virtual clock; every delivery, connection event and failure is a timer, so a run replays exactly from
// its seed. Per-connection state is a few fields: 10,000 nodes fit.

import { seededRandom, silentLogger, VirtualClock } from '@fdn/core';
import type { Logger, Random } from '@fdn/core';
import { SimTransport } from './sim-transport.ts';
import type { SimConnection, SimNodeOptions, SimStats } from './sim-transport.ts';

export type { SimNodeOptions, SimStats };

/** Options of a simulated network. */
export interface SimNetworkOptions {
  /** Seed of every random choice (latency jitter, loss). */
  seed: number;
  /** The clock (default: a new VirtualClock). */
  clock?: VirtualClock;
  /** One-way latency in ms (default 1). */
  latencyMs?: number;
  /** Uniform extra latency in [0, jitterMs) per message (default 0). Order per connection is kept. */
  jitterMs?: number;
  /** Probability that a message is lost (default 0). Connections still deliver in order what is not lost. */
  lossRate?: number;
  /** How long until both ends notice a connection cut by a partition (default 1,000 ms). */
  partitionDetectMs?: number;
  logger?: Logger;
}



/** The messages in flight that arrive at one instant, as parallel arrays (no object per message). */
class Batch {
  readonly to: SimConnection[] = [];
  readonly channel: string[] = [];
  readonly size: number[] = [];
  readonly tag: number[] = [];
  readonly body: unknown[] = [];
}

/** A simulated network of SimTransports. */
export class SimNetwork {
  readonly clock: VirtualClock;
  readonly random: Random;
  readonly logger: Logger;
  readonly stats: SimStats = { delivered: 0, lost: 0, bytes: 0 };
  readonly partitionDetectMs: number;
  #latencyMs: number;
  #jitterMs: number;
  #lossRate: number;
  readonly #listening = new Map<string, SimTransport>();
  readonly #overrides = new Map<string, { latencyMs?: number; lossRate?: number }>();
  /** Node name → partition group (nodes in different groups cannot talk). Empty when healed. */
  #groups = new Map<string, number>();
  /** Directed cuts (`from\u0000to`): what `from` sends `to` is lost. Empty when healed. */
  readonly #cuts = new Set<string>();
  #nextIncarnation = 1;
  /** Messages in flight by arrival time: one clock timer per instant, not per message. */
  readonly #inFlight = new Map<number, Batch>();

  constructor(options: SimNetworkOptions) {
    this.clock = options.clock ?? new VirtualClock();
    this.random = seededRandom(options.seed);
    this.logger = options.logger ?? silentLogger();
    this.#latencyMs = options.latencyMs ?? 1;
    this.#jitterMs = options.jitterMs ?? 0;
    this.#lossRate = options.lossRate ?? 0;
    this.partitionDetectMs = options.partitionDetectMs ?? 1_000;
  }

  /** A new node on this network (call `start` to make it reachable at `sim://<name>`). */
  transport(options: SimNodeOptions): SimTransport {
    return new SimTransport(this, options, options.incarnation ?? this.#nextIncarnation++);
  }

  /** Sets latency and/or loss between two nodes (both directions). */
  setConnection(a: string, b: string, settings: { latencyMs?: number; lossRate?: number }): void {
    this.#overrides.set(pairKey(a, b), settings);
  }

  /** Sets the default latency, jitter and loss. */
  configure(settings: { latencyMs?: number; jitterMs?: number; lossRate?: number }): void {
    if (settings.latencyMs !== undefined) this.#latencyMs = settings.latencyMs;
    if (settings.jitterMs !== undefined) this.#jitterMs = settings.jitterMs;
    if (settings.lossRate !== undefined) this.#lossRate = settings.lossRate;
  }

  /**
   * Splits the network: nodes in different groups cannot reach each other; nodes in no group
   * form one more group. Connections across the cut go down after `partitionDetectMs`.
   */
  partition(...groups: string[][]): void {
    this.#groups = new Map();
    groups.forEach((group, i) => {
      for (const name of group) this.#groups.set(name, i + 1);
    });
    for (const node of this.#listening.values()) node.checkPartition();
  }

  /**
   * Cuts the link between two nodes only, while both still reach everyone else (a partition that
   * is not a clean split: each sees the other unreachable, a third sees both). `oneWay`: only what
   * `from` sends `to` is lost (a connection then fails as well: its heartbeats go unanswered one way).
   */
  cut(from: string, to: string, options: { oneWay?: boolean } = {}): void {
    this.#cuts.add(`${from}\u0000${to}`);
    if (options.oneWay !== true) this.#cuts.add(`${to}\u0000${from}`);
    for (const node of this.#listening.values()) node.checkPartition();
  }

  /** Removes every partition and cut. */
  heal(): void {
    this.#groups = new Map();
    this.#cuts.clear();
  }

  /** True when what `a` sends reaches `b`. */
  reachable(a: string, b: string): boolean {
    if (this.#cuts.size > 0 && this.#cuts.has(`${a}\u0000${b}`)) return false;
    if (this.#groups.size === 0) return true;
    return (this.#groups.get(a) ?? 0) === (this.#groups.get(b) ?? 0);
  }

  /** Crashes the node named `name`: it stops at once, its peers see their connections lost. */
  crash(name: string): void {
    this.#listening.get(name)?.crash();
  }

  /** One-way delay of the next message from `from` to `to`. */
  delay(from: string, to: string): number {
    const o = this.#overrides.size === 0 ? undefined : this.#overrides.get(pairKey(from, to));
    const base = o?.latencyMs ?? this.#latencyMs;
    return this.#jitterMs > 0 ? base + this.random.next() * this.#jitterMs : base;
  }

  /** Whether the next message from `from` to `to` is lost. */
  lose(from: string, to: string): boolean {
    const rate = (this.#overrides.size === 0 ? undefined : this.#overrides.get(pairKey(from, to))?.lossRate) ?? this.#lossRate;
    return rate > 0 && this.random.next() < rate;
  }

  /** @internal Delivers a message to `to` at time `at` (after the messages already due then). */
  deliverAt(at: number, to: SimConnection, channel: string, size: number, tag: number, body: unknown): void {
    let batch = this.#inFlight.get(at);
    if (batch === undefined) {
      const fresh = (batch = new Batch());
      this.#inFlight.set(at, fresh);
      this.clock.setTimer(at - this.clock.now(), () => {
        this.#inFlight.delete(at);
        this.#arrive(fresh);
      });
    }
    batch.to.push(to);
    batch.channel.push(channel);
    batch.size.push(size);
    batch.tag.push(tag);
    batch.body.push(body);
  }

  #arrive(batch: Batch): void {
    const { to, channel, size, tag, body } = batch;
    for (let i = 0; i < to.length; i++) {
      const connection = to[i] as SimConnection;
      if (!connection.up) {
        // Still forming (the dialler's side waits for the answer to its dial): a socket would
        // read the handshake's answer before the data sent after it, so the data waits too.
        if (connection.downReason === null) connection.holdEarly(channel[i] as string, size[i] as number, tag[i] as number, body[i]);
        continue;
      }
      this.stats.delivered++;
      this.stats.bytes += size[i] as number;
      connection.receive(channel[i] as string, size[i] as number, tag[i] as number, body[i]);
    }
  }

  /** @internal */
  register(node: SimTransport): void {
    this.#listening.set(node.self.name, node);
  }

  /** @internal */
  unregister(node: SimTransport): void {
    if (this.#listening.get(node.self.name) === node) this.#listening.delete(node.self.name);
  }

  /** @internal The node listening at a `sim://name` address. */
  lookup(address: string): SimTransport | undefined {
    return address.startsWith('sim://') ? this.#listening.get(address.slice(6)) : undefined;
  }

  /** Live nodes. */
  nodes(): SimTransport[] {
    return [...this.#listening.values()];
  }
}


function pairKey(a: string, b: string): string {
  return a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
}
