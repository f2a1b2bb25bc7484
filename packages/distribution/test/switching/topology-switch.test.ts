// Switching a running cluster's overlay: fullMesh → hyparview → clientServer → fullMesh under
// steady at-least-once traffic, every message counted; a verification that fails rolls back on
// every node; the errors of a switch that should not happen.

import { describe, expect, it } from 'vitest';
import { startNode, TopologyAdvisor } from '../../src/index.ts';
import type { Node } from '../../src/index.ts';
import { stoppedAfterEach, until } from '../helpers.ts';

const SECRET = 'switch-test-secret';
const started = stoppedAfterEach();

async function cluster(count: number): Promise<Node[]> {
  const nodes: Node[] = [];
  for (let i = 0; i < count; i++) {
    const n = await startNode({ name: `s${String(i)}`, secret: SECRET, seeds: i === 0 ? [] : [nodes[0]?.addresses[0] as string], channels: { orders: { reliability: 'at_least_once' } }, topology: { verifyTimeoutMs: 5_000, cooldownMs: 60_000 } });
    started.push(n);
    nodes.push(n);
  }
  await until(() => nodes.every((n) => n.nodes().length === count - 1), 'all connected');
  return nodes;
}

describe('topology switching', () => {
  it('fullMesh → hyparview → clientServer → fullMesh under traffic: every node switches, no message lost or doubled', async () => {
    const nodes = await cluster(4);
    const [a, , , d] = nodes as [Node, Node, Node, Node];
    const got: number[] = [];
    const sink = d.runtime.spawn(async (ctx) => {
      for (;;) got.push((await ctx.receive()) as number);
    });
    let sent = 0;
    const flow = { sending: true };
    const traffic = (async () => {
      while (flow.sending) {
        for (let k = 0; k < 20; k++) a.send(sink, sent++, { channel: 'orders' });
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    for (const to of ['hyparview', 'clientServer', 'fullMesh'] as const) {
      const result = await a.switchTopology(to, { reason: `test: to ${to}` });
      expect(result, JSON.stringify(result)).toMatchObject({ ok: true, to });
      await until(() => nodes.every((n) => n.topology === to), `every node runs ${to}`);
      expect(a.switchState).toBe('stable');
      await new Promise((r) => setTimeout(r, 200));
    }
    flow.sending = false;
    await traffic;
    await until(() => got.length >= sent, `all ${String(sent)} delivered (${String(got.length)})`);
    await new Promise((r) => setTimeout(r, 100));
    expect(got.length).toBe(sent);
    for (let i = 0; i < sent; i++) if (got[i] !== i) throw new Error(`message ${String(i)} is ${String(got[i])}`);
    expect(a.topologyHistory().map((h) => [h.from, h.to])).toEqual([
      ['fullMesh', 'hyparview'],
      ['hyparview', 'clientServer'],
      ['clientServer', 'fullMesh'],
    ]);
    // The cluster still works on the final overlay: every node sees the others.
    await until(() => nodes.every((n) => n.nodes().length === 3), 'all connected after the switches');
  });

  it('a verification that fails rolls back everywhere; errors for already_current, unknown and cooldown', async () => {
    const nodes = await cluster(3);
    const [a] = nodes as [Node];
    // A participant that never hears the announcement (its distribution traffic is cut) never
    // brings the new overlay up: the others' new overlays lack it, verification fails.
    const b = nodes[1] as Node;
    b.blockNodes(['s0', 's2']);
    const failed = await a.switchTopology('hyparview');
    b.unblockNodes();
    expect(failed).toMatchObject({ ok: false, error: 'verification_failed' });
    await until(() => nodes.every((n) => n.topology === 'fullMesh' && n.switchState === 'stable'), 'everyone rolled back');
    expect(await a.switchTopology('fullMesh')).toMatchObject({ ok: false, error: 'already_current' });
    expect(await a.switchTopology('ring' as never)).toMatchObject({ ok: false, error: 'unknown_topology' });
    expect(await a.switchTopology('hyparview', { auto: true })).toMatchObject({ ok: true });
    expect(await a.switchTopology('fullMesh', { auto: true })).toMatchObject({ ok: false, error: 'cooldown_active' });
    expect(await a.switchTopology('fullMesh')).toMatchObject({ ok: true });
  });

  it('one switch at a time: a second, asked of the asker or of a node following the first, is switch_in_progress', async () => {
    const nodes = await cluster(3);
    const [a, b] = nodes as [Node, Node];
    const first = a.switchTopology('hyparview', { reason: 'test: first' });
    expect(await a.switchTopology('clientServer')).toMatchObject({ ok: false, error: 'switch_in_progress' });
    await until(() => b.switching, 'b follows the switch', 10_000, 1);
    expect(await b.switchTopology('clientServer')).toMatchObject({ ok: false, error: 'switch_in_progress' });
    expect(await first).toMatchObject({ ok: true, to: 'hyparview' });
    await until(() => nodes.every((n) => n.topology === 'hyparview' && !n.switching), 'everyone switched');
    // Once it is over, the next one is taken.
    expect(await b.switchTopology('fullMesh')).toMatchObject({ ok: true });
  });
});

describe('automatic switching', () => {
  it('hysteresis: a recommendation switches only after `confirmations` checks in a row (interruptions reset the count)', async () => {
    const nodes = await cluster(2);
    const [a] = nodes as [Node];
    const advisor = new TopologyAdvisor(a);
    const rec = { topology: 'hyparview' as const, rule: 'scripted', why: 'a scripted recommendation' };
    // Holds, holds, breaks; holds, holds, breaks; then holds three times in a row.
    const script = [rec, rec, null, rec, rec, null, rec, rec, rec, rec];
    let checks = 0;
    const real = advisor.analyzePerformance.bind(advisor);
    advisor.analyzePerformance = () => ({ ...real(), recommendation: script[checks++] ?? null });
    const results: { at: number; rule: string }[] = [];
    const stop = advisor.autoSwitch({ intervalMs: 10, confirmations: 3, onResult: (r) => results.push({ at: checks, rule: r.rule }) });
    try {
      await until(() => results.length >= 1 || checks >= script.length, 'the script ran', 10_000);
    } finally {
      stop();
      advisor.stop();
    }
    expect(results).toEqual([{ at: 9, rule: 'scripted' }]);
  });


  it('a rule that holds three checks in a row switches the cluster; the cooldown stops it flapping back', async () => {
    const nodes = await cluster(3);
    const [a] = nodes as [Node];
    const advisor = new TopologyAdvisor(a, {
      rules: [
        { name: 'test: three is a crowd', minNodes: 3, from: ['fullMesh'], to: 'hyparview', why: 'a test rule' },
        { name: 'test: and back', minNodes: 3, from: ['hyparview'], to: 'fullMesh', why: 'a flapping rule' },
      ],
    });
    const results: { rule: string; result: unknown }[] = [];
    const stop = advisor.autoSwitch({ intervalMs: 50, confirmations: 3, onResult: (r) => results.push(r) });
    try {
      await until(() => results.length >= 2, 'a switch and a refused flap back', 15_000);
    } finally {
      stop();
      advisor.stop();
    }
    expect(results[0]).toMatchObject({ rule: 'test: three is a crowd', result: { ok: true, to: 'hyparview' } });
    expect(results[1]).toMatchObject({ rule: 'test: and back', result: { ok: false, error: 'cooldown_active' } });
    expect(a.topologyHistory()).toHaveLength(1);
    expect(a.topologyHistory()[0]?.reason).toContain('three is a crowd');
    await until(() => nodes.every((n) => n.topology === 'hyparview'), 'every node on hyparview');
  });

});
