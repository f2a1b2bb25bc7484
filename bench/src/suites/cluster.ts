// Suite `cluster`: cluster formation (packages/cluster/test/scenarios, each run as its own process).
//   fdn.discovery_converge_s     32 node OS processes find each other through DNS SRV records (a
//                                real DNS server on 127.0.0.1): records published → every node lists every other
//   fdn.sbr_decision_ms          five simulated nodes split 2/3: partition → the majority's decision
//                                (keepMajority, stable-after 20 s; virtual time), and the part beyond the stable period
//   fdn.rolling_restart_lost     five worker nodes restarted in turn (SIGTERM, new incarnation, new app
//   fdn.rolling_restart_doubled  version) under at-least-once streams and an ecosystem job: numbers lost / doubled

import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Recorder } from '../harness.js';
import type { SuiteOptions } from '../harness.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const scenario = (name: string): string => join(root, 'packages/cluster/test/scenarios', `${name}.ts`);

function run(name: string, args: object, timeoutMs: number): unknown {
  const out = execFileSync(process.execPath, ['--conditions=@fdn/source', '--import', 'tsx', scenario(name), JSON.stringify(args)], { cwd: root, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 2 ** 20, stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as unknown;
}

export async function runCluster(options: SuiteOptions): Promise<void> {
  const reps = options.quick ? 1 : 3;
  const nodes = options.quick ? 8 : 32;
  const rec = new Recorder('cluster', options, reps);
  rec.notes.push(`discovery: ${String(nodes)} node OS processes, DNS SRV polled every 1 s; split brain: 5 simulated nodes, keepMajority, stable-after 20 s; rolling restart: 5 worker nodes + a driver, ${options.quick ? '2,000' : '6,000'} job items, 10 workers`);
  for (let r = 0; r < reps; r++) {
    const d = run('discovery', { nodes, pollingIntervalMs: 1_000 }, 300_000) as { convergeMs: number };
    console.log(`discovery, ${String(nodes)} nodes: converged ${String(d.convergeMs)} ms after the records were published`);
    rec.add('fdn.discovery_converge_s', d.convergeMs / 1000, 's');
    const s = run('split-brain', { seed: r + 1, stableAfterMs: 20_000 }, 120_000) as { decisionMs: number; beyondStableMs: number; survivors: string[] };
    console.log(`split brain 2/3: decided ${String(s.decisionMs)} ms after the partition (${String(s.beyondStableMs)} ms beyond the stable period); survivors ${s.survivors.join(',')}`);
    rec.add('fdn.sbr_decision_ms', s.decisionMs, 'ms');
    rec.add('fdn.sbr_beyond_stable_ms', s.beyondStableMs, 'ms');
    const k = run('rolling-restart', { workers: 10, items: options.quick ? 2_000 : 6_000 }, 400_000) as { lost: number; doubled: number; reordered: number; messages: number; itemsDone: number; repeatedItems: number; respawns: number; ms: number; restarts: { exitCode: number | null }[] };
    console.log(`rolling restart: ${String(k.messages)} stream messages, lost ${String(k.lost)}, doubled ${String(k.doubled)}, reordered ${String(k.reordered)}; ${String(k.itemsDone)} items done (${String(k.repeatedItems)} given out again after a hand-off), respawns ${String(k.respawns)}, exit codes ${k.restarts.map((x) => String(x.exitCode)).join(',')}, ${String(Math.round(k.ms / 1000))} s`);
    rec.add('fdn.rolling_restart_lost', k.lost, 'msgs');
    rec.add('fdn.rolling_restart_doubled', k.doubled, 'msgs');
    rec.add('fdn.rolling_restart_s', k.ms / 1000, 's');
  }
  // Losses are totals over the runs, not medians.
  for (const key of ['fdn.rolling_restart_lost', 'fdn.rolling_restart_doubled']) {
    const m = rec.get(key);
    if (m !== undefined) m.median = m.samples.reduce((a, b) => a + b, 0);
  }
  rec.table('cluster formation', [
    { label: `discovery, ${String(nodes)} nodes through DNS SRV`, metric: 'discovery_converge_s', impls: ['fdn'] },
    { label: 'split brain: partition → decision (virtual)', metric: 'sbr_decision_ms', impls: ['fdn'] },
    { label: '… beyond the stable period', metric: 'sbr_beyond_stable_ms', impls: ['fdn'] },
    { label: 'rolling restart: messages lost (total)', metric: 'rolling_restart_lost', impls: ['fdn'] },
    { label: 'rolling restart: messages doubled (total)', metric: 'rolling_restart_doubled', impls: ['fdn'] },
    { label: 'rolling restart of five nodes', metric: 'rolling_restart_s', impls: ['fdn'] },
  ]);
  console.log(`\nwrote ${rec.write()}`);
  await Promise.resolve();
}
