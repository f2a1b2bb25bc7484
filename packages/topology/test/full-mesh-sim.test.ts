// FullMesh simulated: a join storm converges; a settled mesh's anti-entropy is digests, not whole
// member sets (the whole set to every neighbour every period is O(n³) bytes: at 128 real nodes its
// decoding kept two cores busy); a change spreads by epidemic; and a member learned on one side of a
// partition reaches the other after the heal through the digests alone.

import { afterAll, describe, expect, it } from 'vitest';
import { FullMesh, fullMesh, Simulation } from '../src/index.ts';
import type { Connection, FullMeshOptions } from '../src/index.ts';

// Counts the whole member sets that arrive (any membership message carrying a `state`).
type OnMessage = (this: FullMesh, connection: Connection, value: unknown) => void;
const proto = FullMesh.prototype as unknown as { onOverlayMessage: OnMessage };
const original = proto.onOverlayMessage;
let wholeSets = 0;
proto.onOverlayMessage = function (this: FullMesh, connection: Connection, value: unknown): void {
  if (typeof value === 'object' && value !== null && 'state' in value) wholeSets++;
  original.call(this, connection, value);
};
afterAll(() => {
  proto.onOverlayMessage = original;
});

const PERIOD = 1_000;

function build(seed: number, options: FullMeshOptions = {}): Simulation {
  return new Simulation({
    seed,
    latencyMs: 2,
    jitterMs: 2,
    plumtree: false,
    partitionDetectMs: 500,
    overlay: (name, c) => fullMesh({ seeds: name === 'n0' ? [] : ['sim://n0'], gossipIntervalMs: PERIOD, redialMs: 200, maxRedialMs: 1_000, ...options })(c),
  });
}

/** Every live node lists every live node and is connected to each of the others. */
function meshed(sim: Simulation): boolean {
  const live = sim.live();
  return live.every((n) => n.overlay.memberCount() === live.length && n.transport.connections().length === live.length - 1);
}

describe('FullMesh (simulated)', () => {
  it('40 nodes started at once through one seed form a full mesh; settled, each period costs a digest per link', async () => {
    const sim = build(1);
    await sim.addNodes(40);
    await sim.run(20_000, () => meshed(sim));
    expect(meshed(sim)).toBe(true);
    // Meshed: nothing left to dial.
    for (const n of sim.live()) {
      if (!(n.overlay instanceof FullMesh)) throw new Error(`${n.name} does not run FullMesh`);
      expect(n.overlay.dialStatus()).toEqual({ inFlight: 0, pending: [] });
    }
    // Let the join's change gossip die down, then measure three anti-entropy periods.
    await sim.run(3 * PERIOD);
    const [setsBefore, messagesBefore] = [wholeSets, sim.network.stats.delivered];
    await sim.run(3 * PERIOD);
    // Nothing changed: no member set travels (it did: to every neighbour every period, 4,680 here).
    expect(wholeSets - setsBefore).toBe(0);
    // The digests do: one per link and period (from its smaller end).
    expect(sim.network.stats.delivered - messagesBefore).toBeGreaterThanOrEqual((40 * 39 * 3) / 2);
    expect(meshed(sim)).toBe(true);
  });

  for (const seed of [2, 3, 4, 5]) {
    it(`seed ${String(seed)}: a change spreads by epidemic, and the digest round after it finds the few it missed: late joiners are listed everywhere well within one period`, async () => {
      const sim = build(seed, { gossipIntervalMs: 60_000 });
      await sim.addNodes(40);
      await sim.run(20_000, () => meshed(sim));
      expect(meshed(sim)).toBe(true);
      for (let i = 40; i < 44; i++) {
        await sim.addNodes(1, 'n', i);
        const start = sim.clock.now();
        const name = `n${String(i)}`;
        await sim.run(10_000, () => sim.live().every((n) => n.overlay.members().includes(name)));
        expect(sim.live().every((n) => n.overlay.members().includes(name))).toBe(true);
        expect(sim.clock.now() - start).toBeLessThan(3_000);
      }
    });
  }

  it('a member that joined one side of a partition reaches the other side after the heal (anti-entropy by digest)', async () => {
    const sim = build(3);
    await sim.addNodes(12);
    await sim.run(20_000, () => meshed(sim));
    const left = Array.from({ length: 6 }, (_, i) => `n${String(i)}`);
    const right = Array.from({ length: 6 }, (_, i) => `n${String(i + 6)}`);
    sim.network.partition([...left, 'n12'], right);
    await sim.run(2_000);
    await sim.addNodes(1, 'n', 12);
    await sim.run(3_000, () => left.every((n) => sim.node(n).overlay.members().includes('n12')));
    expect(right.some((n) => sim.node(n).overlay.members().includes('n12'))).toBe(false);
    sim.network.heal();
    await sim.run(15_000, () => meshed(sim));
    expect(meshed(sim)).toBe(true);
  });
});

describe('FullMesh seeds (simulated)', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`seed ${String(seed)}: eight seeds and 56 others started at once, each joining through the seeds, form one mesh (seeds pairing off made islands)`, async () => {
      const seeds = Array.from({ length: 8 }, (_, i) => `sim://n${String(i * 8)}`);
      const sim = new Simulation({
        seed,
        latencyMs: 2,
        jitterMs: 2,
        plumtree: false,
        overlay: (_name, c) => fullMesh({ seeds, gossipIntervalMs: PERIOD })(c),
      });
      await sim.addNodes(64);
      await sim.run(30_000, () => meshed(sim));
      const sizes = [...new Set(sim.live().map((n) => n.overlay.memberCount()))];
      expect(sizes).toEqual([64]);
      expect(meshed(sim)).toBe(true);
    });
  }
});
