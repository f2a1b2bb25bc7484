// Suite `sim`: the HyParView and Plumtree papers' experiments on the simulator, with the real
// protocol code at 10,000 nodes (1,000 with --quick): a stable overlay (graph properties, RMR,
// last delivery hop, IHAVEs), then x% of the nodes crashed at once (x = 10 … 95): reliability of
// the first broadcast and the mean of 1,000, and cycles to heal. Scenarios run in worker
// processes, one per core; each builds its own overlay from the same seed.

import { availableParallelism } from 'node:os';
import { Recorder } from '../harness.js';
import type { SuiteOptions } from '../harness.js';
import { spawnPeer } from '../peers/spawn.js';
import { DEADLINE_MS } from '../peers/sim-worker.js';
import type { ScenarioResult, ScenarioSpec } from '../peers/sim-worker.js';

const SEED = 2026;
const FAILURES = [10, 20, 30, 40, 50, 60, 70, 80, 90, 95];
/** The failure levels whose mean over 1,000 broadcasts is a reported key; the others use 100. */
const FULL_BURST = new Set([50, 80, 90, 95]);

/** Published values (research/gossip.md): HyParView TR Fig. 2 and 4, Plumtree Fig. 6a, Tables 1. */
const PAPER = {
  reliability: { 10: 100, 20: 100, 30: 100, 40: 100, 50: 100, 60: 100, 70: 100, 80: 100, 90: 99, 95: 91 } as Record<number, number>,
  firstBroadcast: { 10: 99.5, 20: 99.5, 30: 99.5, 40: 99.5, 50: 95, 60: 56, 70: 15, 80: 0, 90: 0, 95: 0 } as Record<number, number>,
  healCycles: { 10: 1, 20: 1, 30: 1, 40: 1, 50: 1, 60: 1, 70: 2, 80: 2, 90: 4 } as Record<number, number>,
  rmr: 0,
  ldh: 10,
  ihavePerNodePerBroadcast: 3,
  clustering: 0.00092,
  avgShortestPath: 6.38542,
};

export async function runSim(options: SuiteOptions): Promise<void> {
  const nodes = options.quick ? 1_000 : 10_000;
  const burst = options.quick ? 200 : 1_000;
  const rec = new Recorder('sim', options, 1);
  const specs: ScenarioSpec[] = [
    { id: 'stable', nodes, seed: SEED, failedPct: 0, broadcasts: burst, spacingMs: 10, healCycles: 1, multiSenderBroadcasts: options.quick ? 100 : 500 },
    ...FAILURES.map((x) => ({
      id: `failed-${String(x)}`,
      nodes,
      seed: SEED,
      failedPct: x,
      broadcasts: FULL_BURST.has(x) ? burst : Math.min(burst, 100),
      spacingMs: 10,
      healCycles: 5,
      multiSenderBroadcasts: 0,
    })),
  ];
  const started = performance.now();
  const results = await runInWorkers(specs, Math.max(1, Math.min(2, availableParallelism())));
  const totalWallS = (performance.now() - started) / 1000;
  const stable = results.get('stable') as ScenarioResult;

  rec.notes.push(
    `${String(nodes)} nodes, HyParView active 5 / passive 30 / ARWL 6 / PRWL 3 / shuffle 3+4, joined one at a time through one contact, then 3 shuffle cycles of 10 s`,
    `latency 1 ms per hop (time = hops, as in the papers' cycle-driven runs); Plumtree lazy tick 250 ms, graft after 250 ms, anti-entropy every 10 s`,
    `a broadcast counts as delivered to a node if it arrives within ${String(DEADLINE_MS / 1000)} s; reliability = % of live nodes`,
    `burst: ${String(burst)} broadcasts from one sender, one every 10 ms, right after the failure (failure levels other than 50/80/90/95: ${String(Math.min(burst, 100))})`,
    `heal: cycles of 10 s after the failure (10 sampled broadcasts each) until all reach every live node; 1 = the cycle of the failure`,
    `IHAVE per node per broadcast: IHAVE messages (each batching the announcements of a lazy tick) / live nodes / broadcasts, at 100 broadcasts/s`,
    `scenarios spread over ${String(Math.min(2, availableParallelism()))} worker processes; each builds its overlay from seed ${String(SEED)}`,
  );

  // Stable overlay.
  rec.add('fdn.clustering_coefficient', stable.graph.clusteringCoefficient, '');
  rec.add('fdn.avg_shortest_path', stable.graph.averageShortestPath, 'hops');
  rec.add('fdn.in_degree_5_pct', (100 * (stable.graph.inDegree[5] ?? 0)) / stable.nodes, '%');
  rec.add('fdn.largest_component_pct', (100 * stable.graph.largestComponent) / stable.nodes, '%');
  rec.add('fdn.rmr', stable.rmr, '');
  rec.add('fdn.rmr_first_broadcast', stable.rmrFirst, '');
  rec.add('fdn.ldh', stable.ldhMean, 'hops');
  rec.add('fdn.ldh_max', stable.ldhMax, 'hops');
  rec.add('fdn.ihave_per_node_per_broadcast', stable.ihavePerNodePerBroadcast, '');
  rec.add('fdn.stable_reliability', stable.reliability, '%');
  if (stable.multiSender !== undefined) {
    rec.add('fdn.multi_sender_rmr', stable.multiSender.rmr, '');
    rec.add('fdn.multi_sender_ldh', stable.multiSender.ldhMean, 'hops');
  }
  rec.add('fdn.sim_build_s', stable.buildWallS, 's');
  rec.add('fdn.sim_wall_s', stable.buildWallS + stable.runWallS, 's');
  rec.add('fdn.sim_broadcast_phase_s', stable.runWallS, 's');
  rec.add('fdn.sim_suite_wall_s', totalWallS, 's');
  for (const [key, value] of Object.entries({ rmr: PAPER.rmr, ldh: PAPER.ldh, ihave_per_node_per_broadcast: PAPER.ihavePerNodePerBroadcast, clustering_coefficient: PAPER.clustering, avg_shortest_path: PAPER.avgShortestPath })) {
    rec.add(`paper.${key}`, value, '');
  }

  // Failures.
  for (const x of FAILURES) {
    const r = results.get(`failed-${String(x)}`) as ScenarioResult;
    rec.add(`fdn.reliability_at_${String(x)}`, r.reliability, '%');
    rec.add(`fdn.first_broadcast_reliability_at_${String(x)}`, r.firstReliability, '%');
    rec.add(`fdn.heal_cycles_at_${String(x)}`, r.healCycle === 0 ? Number.NaN : r.healCycle, 'cycles');
    rec.add(`paper.reliability_at_${String(x)}`, PAPER.reliability[x] ?? Number.NaN, '%');
    rec.add(`paper.first_broadcast_reliability_at_${String(x)}`, PAPER.firstBroadcast[x] ?? Number.NaN, '%');
    if (PAPER.healCycles[x] !== undefined) rec.add(`paper.heal_cycles_at_${String(x)}`, PAPER.healCycles[x], 'cycles');
  }

  printTables(stable, results, nodes, burst);
  console.log(`\nwall: stable run ${fmt(stable.buildWallS + stable.runWallS, 1)} s (build ${fmt(stable.buildWallS, 1)} s + broadcasts ${fmt(stable.runWallS, 1)} s); whole suite ${fmt(totalWallS, 1)} s`);
  console.log(`results: ${rec.write()}`);
}

function fmt(x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '–';
}

function printTables(stable: ScenarioResult, results: Map<string, ScenarioResult>, nodes: number, burst: number): void {
  const rows: string[][] = [['failed %', 'live', 'mean reliability', 'paper (HyParView)', 'first broadcast', 'paper (Plumtree)', 'heal cycles', 'paper', 'per cycle (min %)']];
  for (const x of FAILURES) {
    const r = results.get(`failed-${String(x)}`) as ScenarioResult;
    rows.push([
      String(x),
      String(r.live),
      `${fmt(r.reliability, 3)} %`,
      `≈${String(PAPER.reliability[x])} %`,
      `${fmt(r.firstReliability, 2)} %`,
      `≈${String(PAPER.firstBroadcast[x])} %`,
      r.healCycle === 0 ? `> ${String(r.cycleReliability.length)}` : String(r.healCycle),
      PAPER.healCycles[x] === undefined ? '–' : `≈${String(PAPER.healCycles[x])}`,
      r.cycleReliability.map((c) => fmt(c, 1)).join(' / '),
    ]);
  }
  table(`Crash x% of ${String(nodes)} nodes at once, then broadcast (${String(burst)} for 50/80/90/95, 100 otherwise)`, rows);
  const g = stable.graph;
  table(`Stable overlay of ${String(nodes)} nodes (${String(burst)} broadcasts from one sender)`, [
    ['figure', '@fdn', 'paper'],
    ['RMR (payload messages / receivers − 1), after the first broadcast', fmt(stable.rmr, 4), '0 (Plumtree s-s)'],
    ['RMR of the first broadcast of a root (it floods)', fmt(stable.rmrFirst, 2), '≈2 (first cycles)'],
    ['last delivery hop, mean / max', `${fmt(stable.ldhMean, 2)} / ${String(stable.ldhMax)}`, '≈10 (s-s), 8.5–9 optimised'],
    ['IHAVE messages per node per broadcast', fmt(stable.ihavePerNodePerBroadcast, 3), '≈3 (unbatched)'],
    ['reliability', `${fmt(stable.reliability, 3)} %`, '100 %'],
    ['clustering coefficient', fmt(g.clusteringCoefficient, 5), '0.00092'],
    ['average shortest path', fmt(g.averageShortestPath, 3), '6.38542'],
    ['in-degree 5', `${fmt((100 * (g.inDegree[5] ?? 0)) / stable.nodes, 1)} % of nodes`, 'almost all'],
    ['largest component', `${String(g.largestComponent)} of ${String(stable.nodes)}`, '–'],
    ...(stable.multiSender === undefined
      ? []
      : [
          ['10 senders in turn: RMR / LDH mean / max', `${fmt(stable.multiSender.rmr, 4)} / ${fmt(stable.multiSender.ldhMean, 2)} / ${String(stable.multiSender.ldhMax)}`, 'm-s: 0 / ≈60 (one shared tree), ≈17 optimised'],
        ]),
  ]);
  console.log(`in-degree distribution: ${JSON.stringify(g.inDegree)}`);
}

function table(title: string, rows: string[][]): void {
  const widths = (rows[0] ?? []).map((_c, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  console.log(`\n${title}`);
  rows.forEach((r, i) => {
    console.log(r.map((c, j) => c.padEnd(widths[j] ?? 0)).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  });
}

/** Runs the scenarios on `workers` processes (largest first, each to the least loaded worker). */
async function runInWorkers(specs: ScenarioSpec[], workers: number): Promise<Map<string, ScenarioResult>> {
  const cost = (s: ScenarioSpec): number => s.nodes * (3 + (s.broadcasts * (100 - s.failedPct)) / 100 / 50);
  const queues: ScenarioSpec[][] = Array.from({ length: workers }, () => []);
  const load = new Array<number>(workers).fill(0);
  for (const spec of [...specs].sort((a, b) => cost(b) - cost(a))) {
    const i = load.indexOf(Math.min(...load));
    (queues[i] as ScenarioSpec[]).push(spec);
    load[i] = (load[i] as number) + cost(spec);
  }
  const results = new Map<string, ScenarioResult>();
  await Promise.all(
    queues.map(async (scenarios) => {
      if (scenarios.length === 0) return;
      const peer = await spawnPeer('sim-worker', { scenarios }, 60_000);
      await new Promise<void>((resolve, reject) => {
        peer.child.on('message', (m: { result?: ScenarioResult }) => {
          if (m.result === undefined) return;
          results.set(m.result.id, m.result);
          console.log(`  ${m.result.id}: build ${fmt(m.result.buildWallS, 1)} s, run ${fmt(m.result.runWallS, 1)} s, reliability ${fmt(m.result.reliability, 3)} %`);
          if (scenarios.every((s) => results.has(s.id))) resolve();
        });
        peer.child.once('exit', (code) => {
          if (scenarios.every((s) => results.has(s.id))) resolve();
          else reject(new Error(`a sim worker exited (${String(code)}) before finishing`));
        });
      });
      await peer.stop();
    }),
  );
  return results;
}
