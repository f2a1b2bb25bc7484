// The project's own chaos run, short: five node OS processes under at-least-once traffic between
// all pairs, connections cut every two seconds through TCP proxies, two SIGKILLs with restarts, one node
// frozen with SIGSTOP. Nothing lost, doubled or reordered; no node loss nobody can explain.
// The long run is the `chaos` benchmark suite.

import { describe, expect, it } from 'vitest';
import { runChaos } from './chaos.ts';

describe('chaos', () => {
  it('five nodes, cuts, kills and restarts, a freeze: lost 0, doubled 0, reordered 0, no unexplained nodedown', async () => {
    const result = await runChaos({ durationMs: 20_000, stopMs: 10_000, seed: Number(process.env.FDN_CHAOS_SEED ?? 7), overlay: 'hyparview' });
    const t0 = result.faults[0]?.t ?? 0;
    const summary = JSON.stringify({ ...result, options: undefined, faults: result.faults.map((f) => `${String(f.t - t0)} ${f.what} ${f.node}`), falseDown: result.falseDown.map((f) => `${String(f.at - t0)} ${f.observer} saw ${f.node} ${f.reason}`) }, null, 1);
    expect(result.sent, summary).toBeGreaterThan(10_000);
    expect(result.cuts, summary).toBeGreaterThan(0);
    expect(result.lost, summary).toBe(0);
    expect(result.doubled, summary).toBe(0);
    expect(result.reordered, summary).toBe(0);
    expect(result.falseDown, summary).toEqual([]);
    expect(result.detectKillMs.length, summary).toBe(2);
    expect(result.detectStopMs.length, summary).toBe(1);
  }, 90_000);
});
