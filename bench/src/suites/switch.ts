// Suite `switch`: a cluster of six nodes (one process, real sockets on 127.0.0.1) switches its
// overlay fullMesh → hyparview → clientServer → fullMesh while one node streams at-least-once
// messages to another; we time each switch (announce to commit) and count what was lost.

import { startNode } from '@fdn/distribution';
import type { Node } from '@fdn/distribution';
import { median, Recorder } from '../harness.js';
import type { SuiteOptions } from '../harness.js';

const SECRET = 'bench-switch';

export async function runSwitch(options: SuiteOptions): Promise<void> {
  const rounds = options.quick ? 1 : 3;
  const rec = new Recorder('switch', options, rounds);
  rec.notes.push('six nodes in one process on real sockets; each round switches fullMesh → hyparview → clientServer → fullMesh under a steady at-least-once stream (20 messages every 5 ms)', 'switch time: from the ask to the commit on the asking node (membership verified everywhere)');
  const nodes: Node[] = [];
  for (let i = 0; i < 6; i++) nodes.push(await startNode({ name: `w${String(i)}`, secret: SECRET, seeds: i === 0 ? [] : [nodes[0]?.addresses[0] as string], channels: { orders: { reliability: 'at_least_once' } }, topology: { verifyTimeoutMs: 15_000 } }));
  for (let i = 0; i < 500 && !nodes.every((n) => n.nodes().length === 5); i++) await new Promise((r) => setTimeout(r, 20));
  const [a, , , , , z] = nodes as [Node, Node, Node, Node, Node, Node];
  const got: number[] = [];
  const sink = z.runtime.spawn(async (ctx) => {
    for (;;) got.push((await ctx.receive()) as number);
  });
  let sent = 0;
  const flow = { on: true };
  const traffic = (async () => {
    while (flow.on) {
      for (let k = 0; k < 20; k++) a.send(sink, sent++, { channel: 'orders' });
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const to of ['hyparview', 'clientServer', 'fullMesh'] as const) {
      const result = await a.switchTopology(to, { reason: 'bench' });
      if (!result.ok) throw new Error(`switch to ${to} failed: ${result.error} (${result.why})`);
      times.push(result.ms);
      rec.add(`fdn.switch_ms_to_${to}`, result.ms, 'ms');
      console.log(`  round ${String(round + 1)}: → ${to} in ${String(Math.round(result.ms))} ms`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  flow.on = false;
  await traffic;
  for (let i = 0; i < 1_000 && got.length < sent; i++) await new Promise((r) => setTimeout(r, 10));
  const delivered = new Set(got);
  const lost = sent - delivered.size;
  const doubled = got.length - delivered.size;
  rec.add('fdn.switch_ms_6_nodes', median(times), 'ms');
  rec.add('fdn.messages_lost_during_switch', lost, 'messages');
  rec.add('fdn.messages_doubled_during_switch', doubled, 'messages');
  rec.add('fdn.messages_sent_during_switch', sent, 'messages');
  console.log(`switch (6 nodes): median ${String(Math.round(median(times)))} ms; ${String(sent)} messages sent during the switches, ${String(lost)} lost, ${String(doubled)} doubled`);
  await Promise.all(nodes.map((n) => n.stop()));
  console.log(`results: ${rec.write()}`);
}
