// Six nodes in six OS processes on 127.0.0.1 switch fullMesh → hyparview → clientServer →
// fullMesh while this node streams at-least-once messages to a child: every node switches, and the
// child receives every message once and in order. A verification that fails (one process cut off
// from the others' switch messages) rolls back in every process; the cooldown refuses an automatic
// switch back.

import { afterEach, describe, expect, it } from 'vitest';
import { startNode } from '../../src/index.ts';
import type { Node } from '../../src/index.ts';
import { until } from '../helpers.ts';
import { killAll, spawnChildNode } from '../process-node.ts';

const SECRET = 'switch-os-test-secret';
const CHANNELS = { orders: { reliability: 'at_least_once' as const } };
let local: Node | null = null;

afterEach(async () => {
  await killAll();
  await local?.stop();
  local = null;
});

describe('topology switching across six OS processes', () => {
  it('fullMesh → hyparview → clientServer → fullMesh under steady traffic: nothing lost or doubled', async () => {
    const a = await startNode({ name: 'a', secret: SECRET, channels: CHANNELS, topology: { verifyTimeoutMs: 10_000 } });
    local = a;
    const children = await Promise.all(['b', 'c', 'd', 'e', 'f'].map((name) => spawnChildNode({ name, secret: SECRET, seeds: [a.addresses[0] as string], channels: CHANNELS })));
    await until(() => a.nodes().length === 5, 'a sees five nodes', 15_000);
    const target = children[4] as (typeof children)[number];
    let sent = 0;
    const flow = { on: true };
    const traffic = (async () => {
      while (flow.on) {
        for (let k = 0; k < 10; k++) a.send({ name: 'sink', node: 'f' }, sent++, { channel: 'orders' });
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    for (const to of ['hyparview', 'clientServer', 'fullMesh'] as const) {
      const result = await a.switchTopology(to);
      expect(result, JSON.stringify(result)).toMatchObject({ ok: true, to });
      for (const c of children) await until(async () => (await c.call<string>('topology')) === to, `${c.name} runs ${to}`, 5_000);
    }
    flow.on = false;
    await traffic;
    let state = { count: 0, next: 0, outOfOrder: 0 };
    await until(async () => (state = await target.call<typeof state>('sink')).count >= sent, `all ${String(sent)} arrived`, 15_000);
    expect(state).toEqual({ count: sent, next: sent, outOfOrder: 0 });
  }, 60_000);

  it('a forced verification failure rolls back in every process; the cooldown blocks an automatic switch back', async () => {
    const a = await startNode({ name: 'a', secret: SECRET, topology: { verifyTimeoutMs: 2_000, cooldownMs: 60_000 } });
    local = a;
    const children = await Promise.all(['b', 'c', 'd', 'e', 'f'].map((name) => spawnChildNode({ name, secret: SECRET, seeds: [a.addresses[0] as string] })));
    await until(() => a.nodes().length === 5, 'a sees five nodes', 15_000);
    const d = children[2] as (typeof children)[number];
    // d drops every distribution message of the others: it never hears the announcement.
    await d.call('block', 5_000, ['a', 'b', 'c', 'e', 'f']);
    const failed = await a.switchTopology('hyparview');
    expect(failed).toMatchObject({ ok: false, error: 'verification_failed' });
    if (!failed.ok) expect(failed.why).toMatch(/\bd\b/);
    await d.call('unblock');
    for (const c of children) {
      await until(async () => (await c.call<{ topology: string; epoch: number; switchState: string }>('topologyState')).topology === 'fullMesh', `${c.name} rolled back`, 5_000);
      expect(await c.call('topologyState')).toEqual({ topology: 'fullMesh', epoch: 0, switchState: 'stable' });
    }
    expect(a.topology).toBe('fullMesh');
    // An automatic switch goes through; the automatic one back is refused by the cooldown.
    expect(await a.switchTopology('hyparview', { auto: true, reason: 'test: auto' })).toMatchObject({ ok: true });
    for (const c of children) await until(async () => (await c.call<string>('topology')) === 'hyparview', `${c.name} runs hyparview`, 5_000);
    expect(await a.switchTopology('fullMesh', { auto: true })).toMatchObject({ ok: false, error: 'cooldown_active' });
    for (const c of children) expect(await c.call<{ epoch: number }>('topologyState')).toMatchObject({ topology: 'hyparview', epoch: 1 });
  }, 60_000);
});
