// Runs simulation scenarios of the `sim` suite in its own process (the suite spreads them over
// the cores): the real HyParView and Plumtree code on a simulated network, deterministic by seed.
// Input: FDN_PEER = { scenarios: ScenarioSpec[] }. Output: one IPC message per finished scenario.

import { HyParView, Simulation } from '@fdn/topology';
import type { BroadcastHandler, DeliveryInfo, GraphProperties, SimulatedNode } from '@fdn/topology';

export interface ScenarioSpec {
  id: string;
  nodes: number;
  seed: number;
  /** Percentage of nodes crashed at once before the measured broadcasts (0: a stable overlay). */
  failedPct: number;
  /** Broadcasts right after the failure (or in the stable overlay), one every `spacingMs`. */
  broadcasts: number;
  spacingMs: number;
  /** Membership cycles observed for healing, 10 broadcasts each (the first is the burst above). */
  healCycles: number;
  /** Stable scenario only: broadcasts from 10 senders in turn (Plumtree's multiple-sender case). */
  multiSenderBroadcasts: number;
}

export interface ScenarioResult {
  id: string;
  nodes: number;
  failedPct: number;
  live: number;
  buildWallS: number;
  runWallS: number;
  graph: Omit<GraphProperties, 'inDegree' | 'components'> & { inDegree: Record<number, number>; largestComponent: number };
  /** Mean over the burst, percent of live nodes reached within `DEADLINE_MS`. */
  reliability: number;
  firstReliability: number;
  minReliability: number;
  /** First cycle (1 = the cycle of the failure) whose sampled broadcasts all reached every live node; 0 if none did. */
  healCycle: number;
  /** Per cycle: the lowest reliability among its sampled broadcasts. */
  cycleReliability: number[];
  rmrFirst: number;
  /** Mean RMR of the burst's broadcasts after the first. */
  rmr: number;
  ldhMean: number;
  ldhMax: number;
  ihavePerNodePerBroadcast: number;
  multiSender?: { rmr: number; ldhMean: number; ldhMax: number; reliability: number };
  heapMb: number;
}

/** A broadcast is counted as delivered to a node if it arrives within this long. */
export const DEADLINE_MS = 2_000;
/** Simulated cycle length: HyParView's shuffle period. */
const CYCLE_MS = 10_000;

/** What the recorder keeps per broadcast: who has it (by node index), hops, payload messages. */
class Broadcast {
  readonly seen: Uint8Array;
  delivered = 1;
  payloads = 0;
  maxHop = 0;
  hopSum = 0;
  late = 0;
  constructor(
    nodes: number,
    source: number,
    readonly sentAt: number,
  ) {
    this.seen = new Uint8Array(nodes);
    this.seen[source] = 1;
  }
}

/**
 * The broadcast handler of every simulated node, sharing one table of broadcasts (a node's view
 * is its bit in each `seen` array): a few bytes per node per broadcast instead of a map each.
 */
class RecorderHandler implements BroadcastHandler<number, number> {
  readonly name = 'bench';
  constructor(
    readonly table: BroadcastTable,
    readonly index: number,
  ) {}

  broadcastData(n: number): { id: string; payload: number } {
    return { id: this.table.start(this.index), payload: n };
  }

  merge(id: string, _payload: number, info: DeliveryInfo): boolean {
    const b = this.table.get(id);
    if (b === undefined) return false;
    b.payloads++;
    if (b.seen[this.index] === 1) return false;
    b.seen[this.index] = 1;
    if (this.table.now() - b.sentAt <= DEADLINE_MS) b.delivered++;
    else b.late++;
    const hop = info.round + 1;
    b.hopSum += hop;
    if (hop > b.maxHop) b.maxHop = hop;
    return true;
  }

  isStale(id: string): boolean {
    return this.table.get(id)?.seen[this.index] === 1;
  }

  graft(id: string): { ok: number } | 'stale' {
    return this.table.get(id)?.seen[this.index] === 1 ? { ok: 0 } : 'stale';
  }

  digest(): string[] {
    return this.table.recent().filter((id) => this.isStale(id));
  }
}

class BroadcastTable {
  readonly #all = new Map<string, Broadcast>();
  readonly order: string[] = [];
  constructor(
    readonly nodes: number,
    readonly now: () => number,
  ) {}
  start(source: number): string {
    const id = `b${String(this.order.length)}`;
    this.#all.set(id, new Broadcast(this.nodes, source, this.now()));
    this.order.push(id);
    return id;
  }
  get(id: string): Broadcast | undefined {
    return this.#all.get(id);
  }
  recent(): string[] {
    return this.order.slice(-64);
  }
}

/** The papers' setup: HyParView active 5, passive 30, ARWL 6, PRWL 3, shuffle 3 + 4; one contact. */
function build(spec: ScenarioSpec): { sim: Simulation; table: BroadcastTable } {
  let index = 0;
  const holder: { table: BroadcastTable | null } = { table: null };
  const sim = new Simulation({
    seed: spec.seed,
    latencyMs: 1,
    overlay: (_name, c) =>
      new HyParView(
        {
          seeds: ['sim://n0'],
          activeSize: 5,
          passiveSize: 30,
          arwl: 6,
          prwl: 3,
          shuffleActive: 3,
          shufflePassive: 4,
          shuffleIntervalMs: CYCLE_MS,
          promotionIntervalMs: 5_000,
          neighborTimeoutMs: 2_000,
          retryUnreachableMs: 10_000,
        },
        c,
      ),
    plumtree: { lazyTickMs: 250, graftTimeoutMs: 250, graftRetryMs: 250, exchangeTickMs: CYCLE_MS, optimizationThreshold: 3 },
    handlers: () => [new RecorderHandler(holder.table as BroadcastTable, index++)],
  });
  holder.table = new BroadcastTable(spec.nodes, () => sim.clock.now());
  return { sim, table: holder.table };
}

function reliabilityOf(b: Broadcast, live: number): number {
  return (100 * b.delivered) / live;
}

/** Runs one scenario; `hooks` run around the measured phase (profiling, debugging). */
export async function runScenario(spec: ScenarioSpec, hooks?: { beforeRun?: () => Promise<void>; afterRun?: (sim: Simulation) => Promise<void> }): Promise<ScenarioResult> {
  const t0 = performance.now();
  const { sim, table } = build(spec);
  // Joins one at a time through the contact (1 ms apart), then three shuffle cycles.
  for (let i = 0; i < spec.nodes; i++) {
    await sim.addNodes(1, 'n', i);
    await sim.run(1);
  }
  await sim.run(3 * CYCLE_MS);
  const graphBefore = sim.graph(100);
  const buildWallS = (performance.now() - t0) / 1000;

  await hooks?.beforeRun?.();
  const t1 = performance.now();
  const sender = sim.node('n1');
  if (spec.failedPct > 0) {
    const candidates = sim.live().map((n) => n.name).filter((n) => n !== 'n1');
    sim.crash(sim.random.sample(candidates, Math.round((spec.nodes * spec.failedPct) / 100)));
  }
  const live = sim.live();
  const ihaveBefore = sumIhaves(live);
  const burstStart = table.order.length;
  for (let i = 0; i < spec.broadcasts; i++) {
    sender.plumtree?.broadcast('bench', i);
    await sim.run(spec.spacingMs);
  }
  await sim.run(DEADLINE_MS);
  const burst = table.order.slice(burstStart).map((id) => table.get(id) as Broadcast);
  const ihaves = sumIhaves(live) - ihaveBefore;
  // Further cycles: 10 broadcasts each, one a second.
  const cycles: Broadcast[][] = [sample(burst, 10)];
  for (let c = 1; c < spec.healCycles; c++) {
    const from = table.order.length;
    for (let i = 0; i < 10; i++) {
      sender.plumtree?.broadcast('bench', i);
      await sim.run(CYCLE_MS / 10);
    }
    await sim.run(DEADLINE_MS);
    cycles.push(table.order.slice(from).map((id) => table.get(id) as Broadcast));
  }
  let multiSender: ScenarioResult['multiSender'];
  if (spec.multiSenderBroadcasts > 0) multiSender = await runMultiSender(sim, table, spec, live.length);
  const runWallS = (performance.now() - t1) / 1000;
  await hooks?.afterRun?.(sim);

  const liveCount = live.length;
  const cycleReliability = cycles.map((bs) => Math.min(...bs.map((b) => reliabilityOf(b, liveCount))));
  const healIndex = cycleReliability.findIndex((r) => r >= 100);
  const rmrs = burst.map((b) => b.payloads / Math.max(1, b.delivered + b.late - 1) - 1);
  const { inDegree, components, ...graph } = graphBefore;
  return {
    id: spec.id,
    nodes: spec.nodes,
    failedPct: spec.failedPct,
    live: liveCount,
    buildWallS,
    runWallS,
    graph: { ...graph, inDegree, largestComponent: components[0] ?? 0 },
    reliability: mean(burst.map((b) => reliabilityOf(b, liveCount))),
    firstReliability: reliabilityOf(burst[0] as Broadcast, liveCount),
    minReliability: Math.min(...burst.map((b) => reliabilityOf(b, liveCount))),
    healCycle: healIndex + 1,
    cycleReliability,
    rmrFirst: rmrs[0] ?? 0,
    rmr: mean(rmrs.slice(1)),
    ldhMean: mean(burst.map((b) => b.maxHop)),
    ldhMax: Math.max(...burst.map((b) => b.maxHop)),
    ihavePerNodePerBroadcast: ihaves / liveCount / spec.broadcasts,
    ...(multiSender === undefined ? {} : { multiSender }),
    heapMb: process.memoryUsage().heapUsed / 2 ** 20,
  };
}

/** Plumtree's multiple-sender case: 10 senders in turn (one tree per sender). */
async function runMultiSender(sim: Simulation, table: BroadcastTable, spec: ScenarioSpec, live: number): Promise<NonNullable<ScenarioResult['multiSender']>> {
  const senders = sim.random.sample(sim.live(), 10);
  const from = table.order.length;
  for (let i = 0; i < spec.multiSenderBroadcasts; i++) {
    (senders[i % senders.length] as SimulatedNode).plumtree?.broadcast('bench', i);
    await sim.run(spec.spacingMs);
  }
  await sim.run(DEADLINE_MS);
  // The first round of each sender floods (its tree does not exist yet): measure the rest.
  const all = table.order.slice(from).map((id) => table.get(id) as Broadcast);
  const steady = all.slice(senders.length);
  return {
    rmr: mean(steady.map((b) => b.payloads / Math.max(1, b.delivered + b.late - 1) - 1)),
    ldhMean: mean(steady.map((b) => b.maxHop)),
    ldhMax: Math.max(...steady.map((b) => b.maxHop)),
    reliability: mean(all.map((b) => reliabilityOf(b, live))),
  };
}

function sumIhaves(nodes: SimulatedNode[]): number {
  let total = 0;
  for (const n of nodes) total += n.plumtree?.stats.ihaveMessages ?? 0;
  return total;
}

function sample<T>(xs: T[], count: number): T[] {
  if (xs.length <= count) return xs;
  return Array.from({ length: count }, (_, i) => xs[Math.floor((i * xs.length) / count)] as T);
}

function mean(xs: number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

// As a worker process: run the scenarios given, report each.
if (process.send !== undefined && process.env.FDN_PEER !== undefined) {
  const { scenarios } = JSON.parse(process.env.FDN_PEER) as { scenarios: ScenarioSpec[] };
  process.send({ ready: true });
  for (const spec of scenarios) {
    const result = await runScenario(spec);
    process.send({ result });
  }
  process.disconnect();
}
