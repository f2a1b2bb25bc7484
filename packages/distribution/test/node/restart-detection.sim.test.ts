// Under HyParView a node is not connected to most others; when one of those restarts, the others
// learn it from the member directory, and must report the old start as lost (nodedown, then
// nodeup for the new one), or their connections and monitors to its old processes would never fire.
// Regression: a newer incarnation of a live member replaced the old one silently; the loss
// surfaced much later as an "unexplained" nodedown (found by the chaos run).

import { describe, expect, it } from 'vitest';
import { SimCluster } from '../../src/index.ts';
import type { NodeEvent } from '../../src/index.ts';
import { simSeeds } from '../../../../test/support/sim-seeds.ts';

const name = (i: number): string => `n${String(i).padStart(2, '0')}`;

for (const seed of simSeeds([3, 5])) {
  describe(`restart of a node others are not connected to (FDN_SIM_SEED=${String(seed)})`, () => {
    it('every node reports the old start down and the new one up, connected to it or not', async () => {
      const sim = new SimCluster({ seed, latencyMs: 1, stepMs: 1, node: { overlay: 'hyparview' } });
      await sim.start(name(0));
      for (let i = 1; i < 24; i++) void sim.start(name(i), [name(0)]);
      await sim.runUntil(() => sim.nodes().length === 24 && sim.nodes().every((n) => n.nodes().length === 23), 60_000, 'every node lists every other');
      const target = name(17);
      const observers = sim.nodes().filter((n) => n.name !== target);
      const disconnected = observers.filter((n) => n.transport.connection(target) === undefined);
      expect(disconnected.length, 'most nodes are not connected to the target').toBeGreaterThan(5);
      const events = new Map<string, NodeEvent[]>();
      for (const o of observers) o.onNodeEvent((e) => e.node === target && (events.get(o.name) ?? events.set(o.name, []).get(o.name))?.push(e));
      await sim.crash(target);
      await sim.start(target, [name(0)]);
      await sim.runUntil(() => observers.every((o) => (events.get(o.name) ?? []).some((e) => e.type === 'nodeup')), 60_000, 'everyone saw the new start come up');
      for (const o of disconnected) {
        const seen = (events.get(o.name) ?? []).map((e) => e.type);
        expect(seen[0], `${o.name} saw ${seen.join(', ')}`).toBe('nodedown');
        expect(seen).toContain('nodeup');
      }
    });
  });
}
