// Four nodes in four OS processes on 127.0.0.1 (this one and three children): messages in order
// between processes, global names and process groups everywhere, and all of it through the
// SIGKILL of one node.

import { isDownMessage } from '@fdn/actors';
import { afterEach, describe, expect, it } from 'vitest';
import { startNode } from '../../src/index.ts';
import type { Node } from '../../src/index.ts';
import { killAll, spawnChildNode } from '../process-node.ts';
import { until } from '../helpers.ts';

const SECRET = 'cluster-test-secret';
let local: Node | null = null;

afterEach(async () => {
  await killAll();
  await local?.stop();
  local = null;
});


describe('a cluster of four OS processes', () => {
  it('in-order messaging, global names and groups everywhere, and all of it through a SIGKILL', async () => {
    const a = await startNode({ name: 'a', secret: SECRET });
    local = a;
    const seeds = [a.addresses[0] as string];
    const children = await Promise.all(['b', 'c', 'd'].map((name) => spawnChildNode({ name, secret: SECRET, seeds })));
    const [b, c] = children as [(typeof children)[number], (typeof children)[number]];
    await until(() => a.nodes().length === 3, 'a sees three nodes');
    await until(async () => (await c.call<string[]>('nodes')).length === 3, 'c sees three nodes');
    await until(() => a.globalNames().join() === 'svc-b,svc-c,svc-d', 'a knows every global name');
    await until(() => a.pg.members('workers').length === 3, 'a sees three workers');

    // In order, across processes: 2,000 requests to each service, answered in order.
    const answers = await a.runtime.run(async (ctx) => {
      const out: Record<string, number[]> = { b: [], c: [], d: [] };
      for (let i = 0; i < 2_000; i++) for (const n of ['b', 'c', 'd']) a.sendGlobal(`svc-${n}`, { from: ctx.self, i });
      for (let k = 0; k < 6_000; k++) {
        const m = (await ctx.receive(undefined, 10_000)) as { echo: number; by: string };
        out[m.by]?.push(m.echo);
      }
      return out;
    });
    for (const n of ['b', 'c', 'd']) expect(answers[n]).toEqual([...Array(2_000).keys()]);

    // SIGKILL b: its name and its group member go everywhere; a monitor of its service is DOWN noconnection.
    const svcB = a.whereisGlobal('svc-b');
    expect(svcB?.node).toBe('b');
    const down = a.runtime.run(async (ctx) => {
      if (svcB !== undefined) ctx.monitor(svcB);
      return ctx.receive(isDownMessage, 10_000);
    });
    await new Promise((r) => setTimeout(r, 50));
    await b.kill();
    expect((await down as { reason: unknown }).reason).toBe('noconnection');
    await until(() => a.globalNames().join() === 'svc-c,svc-d', "b's name is gone at a");
    await until(async () => (await c.call<string[]>('globalNames')).join() === 'svc-c,svc-d', "b's name is gone at c");
    await until(async () => (await c.call<string[]>('workers')).join() === 'c,d', "b's worker is gone at c");
    expect(a.pg.members('workers').map((p) => p.node).sort()).toEqual(['c', 'd']);
  });
});
