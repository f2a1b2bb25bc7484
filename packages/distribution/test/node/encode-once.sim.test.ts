// A fan-out to n nodes encodes its message once: broadcasts on a direct channel, cluster-registry
// updates and process-group changes (counted by `node.encodes`).

import { describe, expect, it } from 'vitest';
import { SimCluster } from '../../src/index.ts';

describe('encode once', () => {
  it('a broadcast, a global name and a group join to 8 other nodes each encode one value', async () => {
    const sim = new SimCluster({ seed: 1 });
    const names = Array.from({ length: 9 }, (_, i) => `e${String(i)}`);
    await sim.start(names[0] as string);
    for (const n of names.slice(1)) await sim.start(n, [names[0] as string]);
    await sim.runUntil(() => sim.nodes().every((n) => n.nodes().length === 8), 30_000, 'a full mesh of nine');
    const a = sim.node('e0');
    const received: unknown[] = [];
    for (const n of names.slice(1)) {
      sim.node(n).runtime.spawn(async (ctx) => {
        ctx.register('listener');
        for (;;) received.push(await ctx.receive());
      });
    }
    await sim.run(10);

    let before = a.encodes;
    a.broadcast('listener', { hello: 'everyone' });
    expect(a.encodes - before).toBe(1);
    await sim.runUntil(() => received.length === 8, 5_000, 'the broadcast reached all eight');

    const pid = a.runtime.spawn(async (ctx) => {
      await ctx.receive();
    });
    const registered = a.registerGlobal('the-one', pid);
    before = a.encodes;
    await sim.await(registered, 5_000, 'the global registration');
    // The claim went out before `before`; what follows is the one confirmation to all eight.
    expect(a.encodes - before).toBe(1);

    before = a.encodes;
    a.pg.join('workers', pid);
    expect(a.encodes - before).toBe(1);
    await sim.runUntil(() => sim.node('e8').pg.members('workers').length === 1, 5_000, 'the join reached e8');
    await sim.stopAll();
  });
});
