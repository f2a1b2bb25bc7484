// reconnectGraceMs: a connection cut for a moment and back to the same start of the node is not a node
// loss (no nodedown, monitors stay); without it (the default), every drop is one, as in Erlang;
// a cut longer than the grace, or a restart, is a loss.

import { isDownMessage } from '@fdn/actors';
import { afterEach, describe, expect, it } from 'vitest';
import type { Node, NodeEvent } from '../../src/index.ts';
import { startNodeBehindProxy } from '../proxy.ts';
import type { Proxy } from '../proxy.ts';
import { stoppedAfterEach, until } from '../helpers.ts';

const SECRET = 'reconnect-grace-secret';
const started = stoppedAfterEach();
const proxies: Proxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

async function nodeBehindProxy(name: string, grace: number, seeds: string[] = []): Promise<{ node: Node; proxy: Proxy }> {
  const behind = await startNodeBehindProxy({ name, secret: SECRET, reconnectGraceMs: grace, seeds });
  proxies.push(behind.proxy);
  started.push(behind.node);
  return behind;
}

/** a and b, each behind its proxy: cutting both proxies cuts the a–b connection whoever redials. */
async function behindProxy(grace: number): Promise<{ a: Node; b: Node; proxy: { cut(): void; block(ms: number): void; cuts: number }; events: NodeEvent[] }> {
  const { node: b, proxy: pb } = await nodeBehindProxy('b', grace);
  const { node: a, proxy: pa } = await nodeBehindProxy('a', grace, [pb.address]);
  await until(() => a.nodes().includes('b') && b.nodes().includes('a'), 'connected through the proxies');
  const events: NodeEvent[] = [];
  a.onNodeEvent((e) => events.push(e));
  const both = {
    cut: () => {
      pa.cut();
      pb.cut();
    },
    block: (ms: number) => {
      pa.block(ms);
      pb.block(ms);
    },
    get cuts() {
      return pa.cuts + pb.cuts;
    },
  };
  return { a, b, proxy: both, events };
}

async function watch(a: Node, b: Node): Promise<{ downs: unknown[] }> {
  const target = b.runtime.spawn(async (ctx) => ctx.receive(() => false));
  const downs: unknown[] = [];
  a.runtime.spawn(async (ctx) => {
    ctx.monitor(target);
    downs.push(await ctx.receive(isDownMessage));
  });
  await new Promise((r) => setTimeout(r, 50));
  return { downs };
}

describe('reconnect grace', () => {
  it('with reconnectGraceMs, a brief cut is no node loss: the connection comes back, no nodedown, the monitor stays', async () => {
    const { a, b, proxy, events } = await behindProxy(2_000);
    const { downs } = await watch(a, b);
    proxy.cut();
    await new Promise((r) => setTimeout(r, 1_000));
    await until(() => a.nodes().includes('b'), 'back');
    await new Promise((r) => setTimeout(r, 2_500));
    expect(proxy.cuts).toBeGreaterThan(0);
    expect(events.filter((e) => e.type === 'nodedown')).toEqual([]);
    expect(downs).toEqual([]);
  });

  it('without it (the default), the same cut is a nodedown and the monitor fires noconnection, as in Erlang', async () => {
    const { a, b, proxy, events } = await behindProxy(0);
    const { downs } = await watch(a, b);
    proxy.cut();
    await until(() => events.some((e) => e.type === 'nodedown'), 'a nodedown');
    await until(() => downs.length === 1, 'the DOWN');
    expect(downs[0]).toMatchObject({ reason: 'noconnection' });
  });

  it('a cut longer than the grace is a node loss, reported when the grace runs out', async () => {
    const { a, b, proxy, events } = await behindProxy(500);
    const { downs } = await watch(a, b);
    const cutAt = Date.now();
    proxy.block(3_000);
    await until(() => events.some((e) => e.type === 'nodedown'), 'a nodedown', 5_000);
    expect(Date.now() - cutAt).toBeGreaterThanOrEqual(450);
    await until(() => downs.length === 1, 'the DOWN');
  });
});

