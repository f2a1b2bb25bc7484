// Which overlay suits the cluster now: metrics collected cheaply and periodically, rules kept as
// data a user can change, and recommendations that name the rule that produced them. This is the
// deciding half of run-time topology management; the switching half is `switch.ts`, which
// `autoSwitch` drives (with hysteresis, and the switcher's cooldown).

import type { Node } from '../node/node.ts';
import type { ProbeResult, SwitchRecord, TopologyEpoch } from './switcher.ts';

import type { TopologyName } from './topologies.ts';

export type { TopologyName };
/** What a cluster mostly does, for `forWorkload`'s starting topology. */
export type Workload = 'lowLatency' | 'highThroughput' | 'eventDriven' | 'largeCluster';

/** What the advisor measured over its window. */
export interface TopologyMetrics {
  /** Nodes in the cluster, this one included. */
  nodeCount: number;
  /** Round-trip times of the connections' control pings (ms): median and worst. */
  rttP50Ms: number | null;
  rttMaxMs: number | null;
  /** Nodes lost (nodedown) per hour over the window: partitions and failures. */
  nodeLossesPerHour: number;
  /** Connections per node this node keeps (a full mesh keeps n − 1). */
  connections: number;
  /** Bytes out per second per channel over the last period. */
  bytesOutPerSec: Record<string, number>;
  /** Messages waiting in this node's channel queues now. */
  queuedMessages: number;
  /** The workload the application declared (`optimizeForWorkload`), if any. */
  workload: Workload | null;
  /**
   * Broadcast reach (fraction of the nodes) and delay (ms, to the last answer) of the last probe
   * broadcast this node measured: its periodic probe, `measureBroadcast()`, or a switch it asked
   * for. Null until one ran.
   */
  broadcastReach: number | null;
  broadcastDelayMs: number | null;
  broadcastMeasuredAt: number | null;
}

/** What `currentTopologyInfo()` reports. */
export interface TopologyInfo {
  topology: TopologyName;
  /** The overlay as configured now: its kind, protocol tags, servers, and epoch (committed switches). */
  overlay: TopologyEpoch & { kind: string };
  nodeCount: number;
  metrics: TopologyMetrics;
  lastSwitch: SwitchRecord | null;
  history: readonly SwitchRecord[];
}

/**
 * A rule: when every given condition holds (and the current topology is one of `from`, if given),
 * recommend `to`. Conditions left out always hold.
 */
export interface TopologyRule {
  name: string;
  from?: TopologyName[];
  minNodes?: number;
  maxNodes?: number;
  /** The median RTT is at least this (ms). */
  minRttMs?: number;
  /** At least this many node losses per hour. */
  minLossesPerHour?: number;
  workload?: Workload;
  /** Only when server nodes are designated (client-server needs them). */
  needsServers?: boolean;
  to: TopologyName;
  why: string;
}

/** The rules of the topology design document, as data. */
export const DEFAULT_RULES: readonly TopologyRule[] = [
  { name: 'event-driven', workload: 'eventDriven', from: ['fullMesh', 'hyparview', 'clientServer', 'static'], to: 'pubSub', why: 'event-driven load: HyParView with Plumtree tuned for broadcasts' },
  { name: 'huge-cluster', minNodes: 1_001, needsServers: true, from: ['fullMesh', 'hyparview', 'pubSub', 'static'], to: 'clientServer', why: 'more than 1,000 nodes and server nodes designated: clients connect only to servers' },
  { name: 'big-mesh', minNodes: 21, from: ['fullMesh', 'static'], to: 'hyparview', why: 'a full mesh past ~20 nodes costs n² connections; HyParView keeps ~5 per node' },
  { name: 'unstable-mesh', minNodes: 11, minLossesPerHour: 6, from: ['fullMesh'], to: 'hyparview', why: 'frequent partitions or failures: HyParView repairs from its passive view' },
  { name: 'small-cluster', maxNodes: 9, from: ['hyparview', 'clientServer', 'pubSub'], workload: 'lowLatency', to: 'fullMesh', why: 'under 10 nodes and latency matters: one hop to everyone' },
  { name: 'small-slow', maxNodes: 9, minRttMs: 5, from: ['hyparview', 'clientServer', 'pubSub'], to: 'fullMesh', why: 'under 10 nodes with multi-hop latency: a full mesh is cheap here' },
];

/** A topology the advisor recommends, the rule that chose it, and why. */
export interface Recommendation {
  topology: TopologyName;
  rule: string;
  why: string;
}

/** The first rule that matches, or none (stay). */
export function recommend(current: TopologyName, metrics: TopologyMetrics, rules: readonly TopologyRule[], serversDesignated = false): Recommendation | null {
  for (const r of rules) {
    if (r.to === current) continue;
    if (r.from !== undefined && !r.from.includes(current)) continue;
    if (r.minNodes !== undefined && metrics.nodeCount < r.minNodes) continue;
    if (r.maxNodes !== undefined && metrics.nodeCount > r.maxNodes) continue;
    if (r.minRttMs !== undefined && (metrics.rttP50Ms ?? 0) < r.minRttMs) continue;
    if (r.minLossesPerHour !== undefined && metrics.nodeLossesPerHour < r.minLossesPerHour) continue;
    if (r.workload !== undefined && metrics.workload !== r.workload) continue;
    if (r.needsServers === true && !serversDesignated) continue;
    return { topology: r.to, rule: r.name, why: r.why };
  }
  return null;
}

/** What a workload calls for at this cluster size, and why. */
export function forWorkload(workload: Workload, nodeCount: number, serversDesignated = false): Recommendation {
  switch (workload) {
    case 'lowLatency':
      return nodeCount <= 20
        ? { topology: 'fullMesh', rule: 'workload:lowLatency', why: `${String(nodeCount)} nodes: a full mesh reaches everyone in one hop` }
        : { topology: 'hyparview', rule: 'workload:lowLatency', why: `${String(nodeCount)} nodes: too many for a full mesh; HyParView keeps paths short (log n)` };
    case 'highThroughput':
      return nodeCount <= 64
        ? { topology: 'fullMesh', rule: 'workload:highThroughput', why: 'direct connections carry bulk without relays; affordable up to ~64 nodes (measured: scale suite)' }
        : { topology: 'hyparview', rule: 'workload:highThroughput', why: 'past ~64 nodes a full mesh spends its CPU on connections; point-to-point sends still go direct (on-demand connections)' };
    case 'eventDriven':
      return { topology: 'pubSub', rule: 'workload:eventDriven', why: 'broadcast-heavy: HyParView with Plumtree tuned for events' };
    case 'largeCluster':
      return nodeCount > 1_000 && serversDesignated
        ? { topology: 'clientServer', rule: 'workload:largeCluster', why: 'past 1,000 nodes with servers designated: clients connect only to servers' }
        : { topology: 'hyparview', rule: 'workload:largeCluster', why: 'HyParView scales to thousands (1,024 real nodes measured) with ~5 connections per node' };
  }
}

/** Collects metrics from a node every `intervalMs` over a sliding window. */
export class TopologyAdvisor {
  #rules: TopologyRule[];
  #workload: Workload | null = null;
  readonly #losses: number[] = [];
  #lastBytes = new Map<string, number>();
  #lastAt: number;
  #bytesPerSec: Record<string, number> = {};
  readonly #off: () => void;
  #probe: ProbeResult | null = null;
  #probeTimer: unknown = null;
  #stopped = false;

  /**
   * `probeIntervalMs` (default 60,000; 0: never): how often the cluster measures broadcast reach
   * and delay. Only the node with the smallest name runs the probe, so the cluster pays for one
   * per interval (a message per overlay connection and an answer per node), and that node's metrics
   * carry it.
   */
  constructor(
    readonly node: Node,
    readonly options: { rules?: TopologyRule[]; windowMs?: number; serversDesignated?: boolean; probeIntervalMs?: number } = {},
  ) {
    this.#rules = (options.rules ?? DEFAULT_RULES).slice();
    this.#lastAt = node.runtime.clock.now();
    this.#off = node.onNodeEvent((e) => {
      if (e.type === 'nodedown' && e.reason !== 'left') this.#losses.push(node.runtime.clock.now());
    });
    this.#scheduleProbe();
  }

  #scheduleProbe(): void {
    const every = this.options.probeIntervalMs ?? 60_000;
    if (every <= 0 || this.#stopped) return;
    const clock = this.node.runtime.clock;
    this.#probeTimer = clock.setTimer(every, () => {
      const others = this.node.nodes();
      const smallest = others.every((n) => n > this.node.name);
      if (!smallest || others.length === 0) {
        this.#scheduleProbe();
        return;
      }
      void this.measureBroadcast().finally(() => {
        this.#scheduleProbe();
      });
    });
  }

  /** Measures broadcast reach and delay now (a probe over the overlay; see `Node.probeBroadcast`). */
  async measureBroadcast(timeoutMs = 5_000): Promise<ProbeResult> {
    const result = await this.node.probeBroadcast(timeoutMs);
    this.#probe = result;
    return result;
  }

  /** The overlay the node runs now, by the names of this module. */
  get current(): TopologyName {
    return this.node.topology;
  }

  setRules(rules: TopologyRule[]): void {
    this.#rules = rules.slice();
  }

  get rules(): readonly TopologyRule[] {
    return this.#rules;
  }

  setWorkload(workload: Workload | null): void {
    this.#workload = workload;
  }

  /** Measures now (cheap: counters and RTTs the connections keep anyway). */
  metrics(): TopologyMetrics {
    const node = this.node;
    const now = node.runtime.clock.now();
    const windowMs = this.options.windowMs ?? 3_600_000;
    while (this.#losses.length > 0 && (this.#losses[0] as number) < now - windowMs) this.#losses.shift();
    const connections = node.transport.connections();
    const rtts = connections.map((l) => l.rttMs).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
    const all = node.getChannelMetrics('all');
    const elapsed = (now - this.#lastAt) / 1000;
    if (elapsed >= 1) {
      const rates: Record<string, number> = {};
      for (const [channel, m] of Object.entries(all)) rates[channel] = (m.bytesOut - (this.#lastBytes.get(channel) ?? 0)) / elapsed;
      this.#bytesPerSec = rates;
      this.#lastBytes = new Map(Object.entries(all).map(([c, m]) => [c, m.bytesOut]));
      this.#lastAt = now;
    }
    const hours = Math.min(windowMs, Math.max(1, now - (this.#losses[0] ?? now))) / 3_600_000;
    // The newer of this node's last probe and the verification of the last switch it asked for.
    const lastSwitch = this.node.topologyHistory().findLast((h) => h.verification !== undefined);
    const probe =
      lastSwitch?.verification !== undefined && (this.#probe === null || lastSwitch.time > this.#probe.at)
        ? { reach: lastSwitch.verification.probeReach, ms: lastSwitch.verification.probeMs, at: lastSwitch.time }
        : this.#probe;
    return {
      nodeCount: node.overlay.memberCount(),
      rttP50Ms: rtts.length === 0 ? null : (rtts[Math.floor(rtts.length / 2)] as number),
      rttMaxMs: rtts.length === 0 ? null : (rtts.at(-1) as number),
      nodeLossesPerHour: this.#losses.length === 0 ? 0 : this.#losses.length / Math.max(hours, 1 / 60),
      connections: connections.length,
      bytesOutPerSec: { ...this.#bytesPerSec },
      queuedMessages: Object.values(all).reduce((s, m) => s + m.queuedMessages, 0),
      workload: this.#workload,
      broadcastReach: probe?.reach ?? null,
      broadcastDelayMs: probe?.ms ?? null,
      broadcastMeasuredAt: probe?.at ?? null,
    };
  }

  /** The metrics and what the rules recommend, with the rule that said so. */
  analyzePerformance(): { topology: TopologyName; metrics: TopologyMetrics; recommendation: Recommendation | null; rulesChecked: number } {
    const metrics = this.metrics();
    return { topology: this.current, metrics, recommendation: recommend(this.current, metrics, this.#rules, this.options.serversDesignated === true), rulesChecked: this.#rules.length };
  }

  /** The topology a workload calls for here, and why (also remembered as the declared workload). */
  optimizeForWorkload(workload: Workload): Recommendation {
    this.#workload = workload;
    return forWorkload(workload, this.node.overlay.memberCount(), this.options.serversDesignated === true);
  }

  /** Topology, overlay configuration, node count, a metrics summary, the last switch and the history (this node's view). */
  currentTopologyInfo(): TopologyInfo {
    const metrics = this.metrics();
    const history = this.node.topologyHistory();
    return { topology: this.current, overlay: { ...this.node.topologyEpoch(), kind: this.node.overlay.kind }, nodeCount: metrics.nodeCount, metrics, lastSwitch: history.at(-1) ?? null, history };
  }

  /**
   * Switches automatically: every `intervalMs` the rules are checked, and a recommendation that
   * holds `confirmations` checks in a row (hysteresis) becomes an automatic switch — which the
   * switcher's cooldown may refuse (`cooldown_active`), so metrics that hover at a threshold do not
   * flap the cluster. Returns the function that stops it.
   */
  autoSwitch(options: { intervalMs?: number; confirmations?: number; onResult?: (r: { rule: string; result: unknown }) => void } = {}): () => void {
    const clock = this.node.runtime.clock;
    let streak: { topology: TopologyName; count: number } | null = null;
    let stopped = false;
    let timer: ReturnType<typeof clock.setTimer> | null = null;
    const check = async (): Promise<void> => {
      const { recommendation } = this.analyzePerformance();
      if (recommendation === null) streak = null;
      else if (streak?.topology === recommendation.topology) streak.count++;
      else streak = { topology: recommendation.topology, count: 1 };
      if (recommendation !== null && streak !== null && streak.count >= (options.confirmations ?? 3)) {
        streak = null;
        const result = await this.node.switchTopology(recommendation.topology, { auto: true, reason: `rule ${recommendation.rule}: ${recommendation.why}` });
        options.onResult?.({ rule: recommendation.rule, result });
      }
    };
    const schedule = (): void => {
      timer = clock.setTimer(options.intervalMs ?? 60_000, () => {
        if (stopped) return;
        void check().finally(schedule);
      });
    };
    schedule();
    return () => {
      stopped = true;
      if (timer !== null) clock.clearTimer(timer);
    };
  }

  stop(): void {
    this.#stopped = true;
    this.#off();
    if (this.#probeTimer !== null) this.node.runtime.clock.clearTimer(this.#probeTimer as ReturnType<Node['runtime']['clock']['setTimer']>);
  }
}
