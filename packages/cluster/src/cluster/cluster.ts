// A node's cluster formation: its topologies (each a discovery strategy) run side by side, and
// what they find is joined. Discovery only adds: a node that vanishes from DNS or the API is not
// disconnected for it (the failure detector and the overlay judge liveness; libcluster's polling
// strategies disconnect whatever a poll no longer lists, so one bad answer, a 403, cuts a
// cluster apart). The libcluster-style API (`topologies`, `nodeList`, `connectNodes`,
// `disconnectNodes`) is here too.

import { heldBack, LogThrottle } from '@fdn/core';
import type { TimerHandle } from '@fdn/core';
import { ClusterError, ClusterErrorCode } from '../errors.ts';
import type { Topology } from '../config/topologies.ts';
import type { Peer, Strategy } from '../strategy/strategy.ts';
import type { ClusterHost } from './host.ts';

/** A topology as `topologies()` shows it. */
export interface TopologyInfo {
  name: string;
  /** Our name of its strategy. */
  strategy: string;
  /** What it found (sorted by address). */
  peers: readonly Peer[];
  /** Which of those this node is connected to now (names, sorted). */
  nodes: string[];
  /** The last error of its source, or null after a good answer. */
  lastError: string | null;
}

/** What `connectNodes` did. */
export interface ConnectResult {
  /** Addresses joined (or already connected). */
  connected: string[];
  /** Addresses that could not be joined, and why. */
  failed: { address: string; reason: string }[];
}

export interface ClusterOptions {
  /** Connects at most this many peers at a time (default 4): 1,000 pods found at once do not dial at once. */
  connectConcurrency?: number;
  /** Warn when a topology has found nobody after this long (default 30,000 ms; 0: never). */
  warnAloneAfterMs?: number;
}

interface Running {
  topology: Topology;
  strategy: Strategy;
  lastError: string | null;
  retry: TimerHandle | null;
  /** Addresses being joined now. */
  joining: Set<string>;
  warnTimer: TimerHandle | null;
}

/** A node's running topologies; made by `startCluster`. */
export class Cluster {
  readonly #host: ClusterHost;
  readonly #running = new Map<string, Running>();
  readonly #concurrency: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];
  #stopped = false;
  readonly #throttle: LogThrottle;

  constructor(host: ClusterHost, topologies: readonly Topology[], options: ClusterOptions = {}) {
    this.#host = host;
    this.#throttle = new LogThrottle(host.clock);
    this.#concurrency = options.connectConcurrency ?? 4;
    for (const topology of topologies) {
      const strategy = topology.create({ self: { name: host.name, addresses: host.addresses }, mac: host.mac?.bind(host), clock: host.clock, random: host.random, logger: host.logger.child({ topology: topology.name }) });
      const running: Running = { topology, strategy, lastError: null, retry: null, joining: new Set(), warnTimer: null };
      this.#running.set(topology.name, running);
      strategy.on('peers', (peers) => {
        running.lastError = null;
        this.#emit('fdn.cluster.discovery.peers', { count: peers.length }, { topology: topology.name, strategy: topology.strategy });
        void this.#reconcile(running);
      });
      strategy.on('error', (err) => {
        running.lastError = err.message;
        this.#emit('fdn.cluster.discovery.error', { count: 1 }, { topology: topology.name, strategy: topology.strategy, code: err.code, reason: err.message });
      });
      const warnAfter = options.warnAloneAfterMs ?? 30_000;
      if (warnAfter > 0) {
        running.warnTimer = host.clock.setTimer(warnAfter, () => {
          running.warnTimer = null;
          if (running.strategy.peers().length > 0 || this.#stopped) return;
          const why = running.lastError === null ? 'its source lists no other node' : `its source fails: ${running.lastError}`;
          host.logger.warn(`cluster: topology '${topology.name}' (${topology.strategy}) has found no other node in ${String(warnAfter)} ms: ${why}. The node runs as a cluster of its own until one is found`, { topology: topology.name });
        });
      }
    }
  }

  /** Starts every topology (resolves once each has looked at its source once). */
  async start(): Promise<void> {
    if (this.#running.size === 0) {
      this.#host.logger.info('cluster: no discovery configured (no topologies, no FDN_DISCOVERY / FDN_CLUSTER_CONFIG): a cluster of one until a node joins it or its seeds answer');
      return;
    }
    await Promise.all([...this.#running.values()].map((r) => r.strategy.start()));
  }

  /** Stops every topology's discovery (the connections stay). */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const r of this.#running.values()) {
      if (r.retry !== null) this.#host.clock.clearTimer(r.retry);
      if (r.warnTimer !== null) this.#host.clock.clearTimer(r.warnTimer);
      r.retry = r.warnTimer = null;
    }
    await Promise.all([...this.#running.values()].map((r) => r.strategy.stop()));
  }

  /** Every topology: its strategy, what it found, and which of those are connected (libcluster's `topologies`). */
  topologies(): TopologyInfo[] {
    return [...this.#running.values()].map((r) => ({ name: r.topology.name, strategy: r.topology.strategy, peers: r.strategy.peers(), nodes: this.#connectedOf(r), lastError: r.lastError }));
  }

  /** The connected nodes `topology` found; without a topology, every connected node (libcluster's `list_nodes`). */
  nodeList(topology?: string): string[] {
    if (topology === undefined) return this.#host.nodes();
    return this.#connectedOf(this.#get(topology));
  }

  /** Joins every node `topology` found now (libcluster's `connect_nodes`); never rejects: failures are listed. */
  async connectNodes(topology: string): Promise<ConnectResult> {
    const r = this.#get(topology);
    const result: ConnectResult = { connected: [], failed: [] };
    await Promise.all(
      r.strategy.peers().map(async (peer) => {
        const failure = await this.#connect(r, peer);
        if (failure === null) result.connected.push(peer.address);
        else result.failed.push({ address: peer.address, reason: failure });
      }),
    );
    result.connected.sort();
    return result;
  }

  /** Disconnects every connected node `topology` found (libcluster's `disconnect_nodes`); the names disconnected. */
  disconnectNodes(topology: string): string[] {
    const r = this.#get(topology);
    const done: string[] = [];
    for (const name of this.#connectedOf(r)) {
      if (!this.#host.disconnect(name)) continue;
      done.push(name);
      this.#emit('fdn.cluster.disconnect_node.ok', { count: 1 }, { node: name, topology });
    }
    return done;
  }

  /** A method, not the field: it changes while a reconcile awaits its joins. */
  #isStopped(): boolean {
    return this.#stopped;
  }

  #get(topology: string): Running {
    const r = this.#running.get(topology);
    if (r === undefined) throw new ClusterError(ClusterErrorCode.UNKNOWN_TOPOLOGY, `no topology '${topology}': the topologies are ${[...this.#running.keys()].join(', ') || '(none)'}`);
    return r;
  }

  #connectedOf(r: Running): string[] {
    const names = new Set<string>();
    for (const peer of r.strategy.peers()) {
      const name = this.#nameOf(peer);
      if (name !== undefined) names.add(name);
    }
    return [...names].sort();
  }

  /** The connected node a peer is, by its name when the source gave it, else by its address. */
  #nameOf(peer: Peer): string | undefined {
    if (peer.name !== undefined && this.#host.nodes().includes(peer.name)) return peer.name;
    return this.#host.nodeAt(peer.address);
  }

  /** Joins what `r` found and is not connected; failures are tried again after the topology's reconnect interval. */
  async #reconcile(r: Running): Promise<void> {
    if (this.#stopped) return;
    const pending = r.strategy.peers().filter((p) => !r.joining.has(p.address) && this.#nameOf(p) === undefined);
    const failures = await Promise.all(pending.map((p) => this.#connect(r, p)));
    if (this.#isStopped() || !failures.some((f) => f !== null) || r.retry !== null) return;
    r.retry = this.#host.clock.setTimer(r.topology.reconnectMs, () => {
      r.retry = null;
      void this.#reconcile(r);
    });
  }

  /** Joins one peer (at most `connectConcurrency` at a time): null when done, else why not. */
  async #connect(r: Running, peer: Peer): Promise<string | null> {
    if (this.#nameOf(peer) !== undefined) return null;
    r.joining.add(peer.address);
    await this.#slot();
    const started = this.#host.clock.now();
    try {
      await this.#host.connect(peer);
      this.#emit('fdn.cluster.connect_node.ok', { durationMs: this.#host.clock.now() - started }, { node: peer.name ?? peer.address, address: peer.address, topology: r.topology.name });
      return null;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.#emit('fdn.cluster.connect_node.error', { durationMs: this.#host.clock.now() - started }, { node: peer.name ?? peer.address, address: peer.address, topology: r.topology.name, reason });
      const held = this.#throttle.occurrence(peer.address);
      if (held !== null) this.#host.logger.warn(`cluster: joining ${peer.address}, found by topology '${r.topology.name}', failed: ${reason}; trying again every ${String(r.topology.reconnectMs)} ms${heldBack(held)}`, { topology: r.topology.name });
      return reason;
    } finally {
      r.joining.delete(peer.address);
      this.#release();
    }
  }

  #slot(): Promise<void> {
    if (this.#active < this.#concurrency) {
      this.#active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next();
    else this.#active--;
  }

  #emit(event: string, measurements: Record<string, number>, metadata: Record<string, unknown>): void {
    if (this.#host.telemetry.active) this.#host.telemetry.emit(event, measurements, metadata);
  }
}
