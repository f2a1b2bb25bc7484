// A deterministic simulation of a cluster: the real peer-service and Plumtree code on a
// SimNetwork, driven by a virtual clock. The same seed gives the same run, event for event.
//
// Time moves in steps of `stepMs`: all timers due within a step fire back to back, then the
// promise continuations they started run (one `setImmediate`), then the next step. Messages
// take whole milliseconds by default, so a step is an instant for the network; timers of the
// protocols (jittered) fall inside steps.

import { silentLogger, VirtualClock } from '@fdn/core';
import type { Logger, Random } from '@fdn/core';
import { Plumtree } from '../broadcast/plumtree.ts';
import type { PlumtreeOptions } from '../broadcast/plumtree.ts';
import type { BroadcastHandler } from '../broadcast/handler.ts';
import type { PeerServiceComponents } from '../peer-service/base.ts';
import type { PeerService } from '../peer-service/types.ts';
import { SimNetwork } from '../transport/sim/sim-network.ts';
import type { SimTransport } from '../transport/sim/sim-transport.ts';
import { graphProperties } from './graph.ts';
import type { GraphProperties } from './graph.ts';

export interface SimulationOptions {
  seed: number;
  /** One-way latency (default 1 ms). */
  latencyMs?: number;
  /** Extra uniform latency per message (default 0). */
  jitterMs?: number;
  lossRate?: number;
  /** How long until both ends notice a connection cut by a partition (default 1,000 ms). */
  partitionDetectMs?: number;
  /** Builds the peer service of a node. */
  overlay: (name: string, components: PeerServiceComponents) => PeerService;
  /** Plumtree on every node with these options (default on; `false`: no broadcast layer). */
  plumtree?: PlumtreeOptions | false;
  /** The broadcast handlers of a node (registered on its Plumtree). */
  handlers?: (node: SimulatedNode) => BroadcastHandler[];
  /** Shared secret of the simulated nodes (default `sim`). */
  secret?: string;
  /** Time step of the driver (default 1 ms). */
  stepMs?: number;
  logger?: Logger;
}

/** One node of a simulation. */
export interface SimulatedNode {
  readonly name: string;
  readonly transport: SimTransport;
  readonly overlay: PeerService;
  readonly plumtree: Plumtree | null;
  readonly random: Random;
  /** False once crashed or stopped. */
  alive: boolean;
}

export class Simulation {
  readonly network: SimNetwork;
  readonly clock: VirtualClock;
  readonly nodes = new Map<string, SimulatedNode>();
  readonly #options: SimulationOptions;
  readonly #stepMs: number;
  readonly #logger: Logger;

  constructor(options: SimulationOptions) {
    this.#options = options;
    this.#stepMs = options.stepMs ?? 1;
    this.#logger = options.logger ?? silentLogger();
    this.clock = new VirtualClock();
    this.network = new SimNetwork({
      seed: options.seed,
      clock: this.clock,
      latencyMs: options.latencyMs ?? 1,
      jitterMs: options.jitterMs ?? 0,
      lossRate: options.lossRate ?? 0,
      partitionDetectMs: options.partitionDetectMs ?? 1_000,
      logger: this.#logger,
    });
  }

  /** The simulation's own random source (node sources are forked from it in creation order). */
  get random(): Random {
    return this.network.random;
  }

  /** Creates a node (not started). Names must be unique; a crashed node's name can be reused. */
  addNode(name: string): SimulatedNode {
    const previous = this.nodes.get(name);
    if (previous?.alive === true) throw new Error(`simulated node ${name} already exists`);
    const transport = this.network.transport({ name, secret: this.#options.secret ?? 'sim' });
    const random = this.network.random.fork();
    const components: PeerServiceComponents = { transport, clock: this.clock, random, logger: this.#logger };
    const overlay = this.#options.overlay(name, components);
    const plumtree = this.#options.plumtree === false ? null : new Plumtree(this.#options.plumtree ?? {}, { transport, peerService: overlay, clock: this.clock, random: random.fork(), logger: this.#logger });
    const node: SimulatedNode = { name, transport, overlay, plumtree, random, alive: true };
    if (plumtree !== null) for (const handler of this.#options.handlers?.(node) ?? []) plumtree.register(handler);
    this.nodes.set(name, node);
    return node;
  }

  /** Creates and starts `count` nodes named `<prefix><i>`, i from `from`. */
  async addNodes(count: number, prefix = 'n', from = 0): Promise<SimulatedNode[]> {
    const created: SimulatedNode[] = [];
    for (let i = from; i < from + count; i++) created.push(this.addNode(`${prefix}${String(i)}`));
    for (const node of created) await node.overlay.start();
    return created;
  }

  /** Live nodes, in creation order. */
  live(): SimulatedNode[] {
    return [...this.nodes.values()].filter((n) => n.alive);
  }

  node(name: string): SimulatedNode {
    const node = this.nodes.get(name);
    if (node === undefined) throw new Error(`no simulated node ${name}`);
    return node;
  }

  /** Crashes nodes: they stop at once without a word; their peers see the connections lost. */
  crash(names: Iterable<string>): void {
    for (const name of names) {
      const node = this.nodes.get(name);
      if (node?.alive !== true) continue;
      node.alive = false;
      this.network.crash(name);
      node.plumtree?.stop();
      void node.overlay.stop();
    }
  }

  /** Stops a node gracefully (its connections close as on a shutdown). */
  async stopNode(name: string): Promise<void> {
    const node = this.node(name);
    if (!node.alive) return;
    node.alive = false;
    node.plumtree?.stop();
    await node.overlay.stop();
  }

  /** Runs the simulation for `ms` of virtual time (or until `until` holds, checked every step). */
  run(ms: number, until?: () => boolean): Promise<void> {
    return runInSteps(this.clock, ms, this.#stepMs, until);
  }

  /** The overlay among live nodes (neighbours of each), and its properties. */
  graph(pathSources = 100): GraphProperties {
    const adjacency = new Map<string, string[]>();
    for (const node of this.live()) adjacency.set(node.name, node.overlay.neighbors());
    return graphProperties(adjacency, this.random.fork(), pathSources);
  }
}

/**
 * Advances `clock` by `ms` in steps of `stepMs`: the timers due within a step fire back to back,
 * then one event-loop turn lets the promise continuations they started run. Stops early when
 * `until` holds (checked between steps). Much faster than `VirtualClock.advance`, which settles
 * after every timer; the price is that continuations run at the end of their step.
 */
export async function runInSteps(clock: VirtualClock, ms: number, stepMs = 1, until?: () => boolean): Promise<void> {
  const end = clock.now() + ms;
  await yieldTurn();
  for (;;) {
    if (until?.() === true) return;
    const next = clock.nextTimerAt();
    if (next === undefined || next > end) break;
    const to = Math.min(end, (Math.floor(next / stepMs) + 1) * stepMs);
    clock.advanceSync(to - clock.now());
    await yieldTurn();
  }
  clock.advanceSync(end - clock.now());
  await yieldTurn();
}

function yieldTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
