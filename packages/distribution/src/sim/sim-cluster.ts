// A cluster of real distribution nodes on the simulator: every Node (runtime, codec, at-least-once
// channels, registries, overlay, Plumtree, topology switching) runs unchanged on a SimTransport and
// one virtual clock, so a thousand nodes fit in one process and a run replays from its seed.

import { silentLogger, VirtualClock } from '@fdn/core';
import type { Logger } from '@fdn/core';
import { runInSteps, SimNetwork } from '@fdn/topology';
import type { Node } from '../node/node.ts';
import { createNode } from '../start.ts';
import { transportChannels } from '../node/channels.ts';
import type { NodeOptions } from '../node/options.ts';

/** A simulated cluster's network (latency, loss, seed) and the options every node starts with. */
export interface SimClusterOptions {
  seed: number;
  /** One-way latency (default 1 ms), extra uniform jitter (default 0), loss rate (default 0). */
  latencyMs?: number;
  jitterMs?: number;
  lossRate?: number;
  /** How long until both ends notice a connection cut by a partition (default 1,000 ms). */
  partitionDetectMs?: number;
  /** What every node is started with (the transport, clock and randomness are the cluster's). */
  node?: Omit<NodeOptions, 'name' | 'secret' | 'transport' | 'clock' | 'random' | 'listen' | 'seeds'>;
  /** Time step of the driver (default 5 ms): timers within a step fire together, then promises settle. */
  stepMs?: number;
  logger?: Logger;
}

const SECRET = 'simulated-cluster';

/** Whole nodes (`Node`s, not just overlays) on the simulator's network and virtual clock. */
export class SimCluster {
  readonly clock = new VirtualClock();
  readonly network: SimNetwork;
  readonly #nodes = new Map<string, Node>();
  readonly #options: SimClusterOptions;

  constructor(options: SimClusterOptions) {
    this.#options = options;
    // The network's own options pass through (its defaults: 1 ms connections, no jitter, no loss).
    const { node: _node, stepMs: _stepMs, ...network } = options;
    this.network = new SimNetwork({ ...network, clock: this.clock });
  }

  /** Starts a node that joins through `seeds` (node names); a crashed node's name can be reused (a new incarnation). */
  async start(name: string, seeds: string[] = [], options: Partial<NodeOptions> = {}): Promise<Node> {
    if (this.#nodes.has(name)) throw new Error(`simulated node ${name} is running`);
    const merged = { ...this.#options.node, ...options };
    const transport = this.network.transport({ name, secret: SECRET, ...(merged.channels === undefined ? {} : { channels: transportChannels(merged.channels) }) });
    const node = createNode({
      loadReportMs: 0,
      ...merged,
      name,
      secret: SECRET,
      transport,
      clock: this.clock,
      random: this.network.random.fork(),
      logger: merged.logger ?? this.#options.logger ?? silentLogger(),
      seeds: seeds.map((s) => `sim://${s}`),
    });
    this.#nodes.set(name, node);
    await node.start();
    return node;
  }

  /** Crashes a node: it stops without a word, its peers see their connections lost. */
  async crash(name: string): Promise<void> {
    const node = this.#nodes.get(name);
    if (node === undefined) return;
    this.#nodes.delete(name);
    this.network.crash(name);
    await node.stop();
  }

  /** Stops a node gracefully. */
  async stop(name: string): Promise<void> {
    const node = this.#nodes.get(name);
    this.#nodes.delete(name);
    await node?.stop();
  }

  node(name: string): Node {
    const node = this.#nodes.get(name);
    if (node === undefined) throw new Error(`no running simulated node ${name}`);
    return node;
  }

  /** The running nodes, in start order. */
  nodes(): Node[] {
    return [...this.#nodes.values()];
  }

  names(): string[] {
    return [...this.#nodes.keys()];
  }

  /** Runs `ms` of virtual time, or until `until` holds (checked every step). */
  run(ms: number, until?: () => boolean): Promise<void> {
    return runInSteps(this.clock, ms, this.#options.stepMs ?? 5, until);
  }

  /** Runs until `until` holds; throws after `maxMs` of virtual time. */
  async runUntil(until: () => boolean, maxMs: number, what: string): Promise<void> {
    const deadline = this.clock.now() + maxMs;
    await this.run(maxMs, until);
    if (!until()) throw new Error(`simulation: ${what} did not happen within ${String(maxMs)} virtual ms (t=${String(this.clock.now() - deadline + maxMs)})`);
  }

  /** Runs until `promise` settles (a switch, a call, a spawn); throws after `maxMs` of virtual time. */
  async await<T>(promise: Promise<T>, maxMs: number, what: string): Promise<T> {
    let outcome: { value: T } | { error: unknown } | null = null;
    promise.then(
      (value) => (outcome = { value }),
      (error: unknown) => (outcome = { error }),
    );
    await this.runUntil(() => outcome !== null, maxMs, what);
    const settled = outcome as unknown as { value: T } | { error: unknown };
    if ('error' in settled) throw settled.error;
    return settled.value;
  }

  /** Every running node runs the same overlay at the same epoch (`topology`, if given) and reaches every other. */
  converged(topology?: string): boolean {
    const nodes = this.nodes();
    const first = nodes[0]?.topologyEpoch();
    if (first === undefined) return true;
    return nodes.every((n) => {
      const t = n.topologyEpoch();
      return t.topology === (topology ?? first.topology) && t.epoch === first.epoch && t.switchId === first.switchId && n.nodes().length === nodes.length - 1;
    });
  }

  async stopAll(): Promise<void> {
    for (const name of [...this.#nodes.keys()]) await this.stop(name);
  }
}
