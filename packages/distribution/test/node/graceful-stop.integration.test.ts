// Stopping a node the way OTP stops an application, in another OS process: SIGTERM with
// `handleSignals: true` runs every terminate (children in reverse start order, still able to
// reach other nodes), the node leaves the cluster (its peers see `left`), and it exits with 0.

import { afterEach, describe, expect, it } from 'vitest';
import { startNode } from '../../src/index.ts';
import type { Node, NodeEvent } from '../../src/index.ts';
import { killAll, spawnChildNode } from '../process-node.ts';
import { until } from '../helpers.ts';

const SECRET = 'graceful-stop-secret';
let local: Node | null = null;

afterEach(async () => {
  await killAll();
  await local?.stop();
  local = null;
});

describe('graceful stop', () => {
  it('SIGTERM: terminate callbacks run in reverse start order and reach another node, the peer sees the node leave, exit code 0', async () => {
    const a = await startNode({ name: 'a', secret: SECRET });
    local = a;
    const heard: unknown[] = [];
    a.runtime.register(
      'watcher',
      a.runtime.spawn(async (ctx) => {
        for (;;) heard.push(await ctx.receive());
      }),
    );
    const events: NodeEvent[] = [];
    a.onNodeEvent((e) => events.push(e));
    const b = await spawnChildNode({ name: 'b', secret: SECRET, seeds: [a.addresses[0] as string], handleSignals: true });
    await until(() => a.nodes().includes('b'), 'b connected');
    await b.call('startTree', 10_000, ['a']);
    b.child.kill('SIGTERM');
    const ended = await b.exited;
    expect(ended).toEqual({ code: 0, signal: null });
    await until(() => heard.length === 2, 'both terminate callbacks were heard');
    expect(heard).toEqual([
      { terminated: 'second', reason: 'shutdown' },
      { terminated: 'first', reason: 'shutdown' },
    ]);
    await until(() => events.some((e) => e.type === 'nodedown'), 'a saw b go');
    expect(events.find((e) => e.type === 'nodedown')).toEqual({ type: 'nodedown', node: 'b', reason: 'left' });
  });

  it('node.stop() in this process runs terminate callbacks too (it used to kill everything)', async () => {
    const a = await startNode({ name: 'solo', secret: SECRET });
    const log: string[] = [];
    const { GenServer } = await import('@fdn/actors');
    await GenServer.start(a.runtime, { init: () => ({ type: 'ok', state: null }), terminate: (reason: unknown) => void log.push(`terminate ${String(reason)}`) }, null);
    await a.stop();
    expect(log).toEqual(['terminate shutdown']);
  });
});
