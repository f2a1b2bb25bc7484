// Suite `chaos`: the project's chaos run, long (packages/distribution/test/chaos/chaos.ts, run as
// its own process): five node OS processes on 127.0.0.1 under at-least-once traffic between all
// pairs, a TCP proxy in front of each cutting its links now and then, SIGKILLs with restarts, and
// a 10 s SIGSTOP; then every message is accounted for. Runs HyParView and a full mesh.

import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Recorder } from '../harness.js';
import type { SuiteOptions } from '../harness.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SCRIPT = join(root, 'packages/distribution/test/chaos/chaos.ts');

interface ChaosResult {
  sent: number;
  delivered: number;
  lost: number;
  doubled: number;
  reordered: number;
  falseDown: unknown[];
  detectKillMs: number[];
  detectStopMs: number[];
  rejoinMs: number[];
  cuts: number;
}

export async function runChaos(options: SuiteOptions): Promise<void> {
  const runs = options.quick ? [{ overlay: 'hyparview', seed: 1 }] : [{ overlay: 'hyparview', seed: 1 }, { overlay: 'hyparview', seed: 2 }, { overlay: 'fullMesh', seed: 3 }];
  const durationMs = options.quick ? 10_000 : 60_000;
  // The freeze outlasts reconnectGraceMs (2 s) in both: the node is declared down, then comes back.
  const stopMs = options.quick ? 4_000 : 10_000;
  const rec = new Recorder('chaos', options, runs.length);
  rec.notes.push(`${String(runs.length)} runs of ${String(durationMs / 1000)} s, five node OS processes, at-least-once between all pairs (one message per pair every 10 ms), a proxy per node cutting its links every 2 s, ${options.quick ? 2 : 4} SIGKILLs with restarts, one ${String(stopMs / 1000)} s SIGSTOP; reconnectGraceMs 2,000`);
  for (const run of runs) {
    const args = JSON.stringify({ durationMs, stopMs, kills: options.quick ? 2 : 4, overlay: run.overlay, seed: run.seed });
    const out = execFileSync(process.execPath, ['--conditions=@fdn/source', '--import', 'tsx', SCRIPT, args], { cwd: root, encoding: 'utf8', timeout: durationMs + 240_000, maxBuffer: 64 * 2 ** 20, stdio: ['ignore', 'pipe', 'inherit'] });
    const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as ChaosResult;
    console.log(`${run.overlay} seed ${String(run.seed)}: sent ${String(r.sent)}, delivered ${String(r.delivered)}, lost ${String(r.lost)}, doubled ${String(r.doubled)}, reordered ${String(r.reordered)}, unexplained nodedowns ${String(r.falseDown.length)}, kill noticed after ${r.detectKillMs.join('/')} ms, freeze after ${r.detectStopMs.join('/')} ms, rejoin ${r.rejoinMs.join('/')} ms, ${String(r.cuts)} connections cut`);
    rec.add('fdn.chaos_lost', r.lost, 'msgs');
    rec.add('fdn.chaos_doubled', r.doubled, 'msgs');
    rec.add('fdn.chaos_reordered', r.reordered, 'msgs');
    rec.add('fdn.chaos_false_down', r.falseDown.length, 'events');
    rec.add('fdn.chaos_sent', r.sent, 'msgs');
    for (const ms of r.detectKillMs) rec.add('fdn.detect_kill_ms', ms, 'ms');
    for (const ms of r.detectStopMs) rec.add('fdn.detect_stop_ms', ms, 'ms');
    for (const ms of r.rejoinMs) rec.add('fdn.rejoin_ms', ms, 'ms');
  }
  // Losses and false alarms are totals over the runs, not medians.
  for (const key of ['fdn.chaos_lost', 'fdn.chaos_doubled', 'fdn.chaos_reordered', 'fdn.chaos_false_down']) {
    const m = rec.get(key);
    if (m !== undefined) m.median = m.samples.reduce((a, b) => a + b, 0);
  }
  rec.table('chaos (totals over the runs; detection: medians)', [
    { label: 'messages lost', metric: 'chaos_lost', impls: ['fdn'] },
    { label: 'messages doubled', metric: 'chaos_doubled', impls: ['fdn'] },
    { label: 'messages reordered', metric: 'chaos_reordered', impls: ['fdn'] },
    { label: 'unexplained nodedowns', metric: 'chaos_false_down', impls: ['fdn'] },
    { label: 'SIGKILL noticed after', metric: 'detect_kill_ms', impls: ['fdn'] },
    { label: 'SIGSTOP noticed after', metric: 'detect_stop_ms', impls: ['fdn'] },
    { label: 'restarted node listed by all after', metric: 'rejoin_ms', impls: ['fdn'] },
  ]);
  console.log(`\nwrote ${rec.write()}`);
  await Promise.resolve();
}
