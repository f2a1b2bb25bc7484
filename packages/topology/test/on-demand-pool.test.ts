// The on-demand connection pool behind `forward` to a node that is not a neighbour (README: 64 connections,
// least recently used closed first, idle ones closed after 30 s), on a simulated HyParView cluster
// with its member directory (so every node's address is known without a connection).

import { describe, expect, it } from 'vitest';
import { HyParView, Simulation } from '../src/index.ts';

const N = 80;

async function cluster(): Promise<{ sim: Simulation; x: HyParView }> {
  const seeds = ['sim://n0'];
  const sim = new Simulation({
    seed: 7,
    latencyMs: 1,
    stepMs: 5,
    plumtree: false,
    overlay: (_name, c) => {
      // No shuffles: their temporary connections would mix with the pool under test.
      const o = new HyParView({ seeds, activeSize: 3, shuffleIntervalMs: 1e9 }, c);
      o.useDirectory({ announceMs: 2_000 });
      return o;
    },
  });
  await sim.addNodes(N);
  await sim.run(30_000, () => sim.live().every((n) => n.overlay.memberCount() === N));
  const x = sim.node('n1').overlay;
  if (!(x instanceof HyParView)) throw new Error('expected a HyParView');
  expect(x.members()).toHaveLength(N);
  return { sim, x };
}

describe('on-demand connections of forward', () => {
  it('keeps at most 64, closes the least recently used first, and closes idle ones after 30 s', async () => {
    const { sim, x } = await cluster();
    const transport = sim.node('n1').transport;
    const targets = x.members().filter((m) => m !== 'n1' && !x.neighbors().includes(m) && transport.connection(m) === undefined).slice(0, 70);
    expect(targets.length).toBe(70);
    const open = (): string[] => targets.filter((t) => transport.connection(t) !== undefined);
    const send = async (t: string): Promise<void> => {
      // The dial needs simulated time to pass: run until the forward settles.
      let status: string | undefined;
      void x.forward(t, 'default', Buffer.from('hello')).then((s) => (status = s));
      await sim.run(1_000, () => status !== undefined);
      expect(status).toBe('sent');
    };

    for (const t of targets.slice(0, 64)) await send(t);
    expect(open()).toHaveLength(64);
    // Use the first again: now the second is the least recently used.
    await sim.run(10);
    await send(targets[0] as string);
    await send(targets[64] as string);
    await sim.run(50);
    expect(open()).toHaveLength(64);
    expect(transport.connection(targets[1] as string), 'the least recently used was closed').toBeUndefined();
    expect(transport.connection(targets[0] as string), 'one used again stays').toBeDefined();
    for (const t of targets.slice(65)) await send(t);
    await sim.run(50);
    expect(open()).toHaveLength(64);
    expect(targets.slice(2, 7).every((t) => transport.connection(t) === undefined)).toBe(true);

    // Idle: one connection keeps carrying traffic every 10 s, the others carry nothing. Idleness is
    // looked at every 15 s, so an idle connection goes 30–45 s after its last use: 50 s covers it.
    const busy = targets[69] as string;
    for (let i = 0; i < 5; i++) {
      await send(busy);
      await sim.run(10_000);
    }
    expect(open()).toEqual([busy]);
  }, 60_000);
});

describe('send: the same path, synchronous and in order', () => {
  it('to a member with no connection: queued in order while the on-demand connection opens, then delivered in order; on the connection at once after', async () => {
    const { sim, x } = await cluster();
    const target = x.members().find((m) => m !== 'n1' && !x.neighbors().includes(m) && sim.node('n1').transport.connection(m) === undefined) as string;
    const got: string[] = [];
    sim.node(target).overlay.onMessage('default', (from, payload) => {
      if (from === 'n1') got.push(Buffer.from(payload).toString());
    });
    const statuses = Array.from({ length: 50 }, (_, i) => x.send(target, 'default', Buffer.from(`m${String(i)}`)));
    expect(statuses.every((s) => s === 'queued')).toBe(true);
    expect(x.waiting()).toBe(49);
    await sim.run(1_000, () => got.length === 50);
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => `m${String(i)}`));
    expect(x.waiting()).toBe(0);
    expect(x.send(target, 'default', Buffer.from('now'))).toBe('sent');
    expect(x.send('n1', 'default', Buffer.from('self'))).toBe('unknown');
    expect(() => x.send(target, 'control', Buffer.from('x'))).toThrow(/carries the overlay protocols/);
    // A member nobody can reach: queued, then dropped (the overlay cannot open a connection to it).
    expect(x.send('nobody', 'default', Buffer.from('lost'))).toBe('queued');
    await sim.run(100, () => x.waiting() === 0);
    expect(x.waiting()).toBe(0);
  });
});
