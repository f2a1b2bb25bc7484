// Suite `switch`: a cluster of six nodes (one process, real sockets on 127.0.0.1) switches its
// overlay fullMesh → hyparview → clientServer → fullMesh while one node streams at-least-once
// messages to another; we time each switch (announce to commit) and count what was lost. Then
// 1,000 simulated nodes (SimCluster: the same Node code on the simulator, virtual time) switch
// hyparview ↔ pubSub while nodes crash and join mid-switch and four streams are counted, and 200
// simulated nodes switch to clientServer and back the same way.

import { SimCluster, startNode } from '@fdn/distribution';
import type { Node, TopologyName } from '@fdn/distribution';
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
  console.log(`switch (6 nodes): median ${String(Math.round(median(times)))} ms; ${String(sent)} messages sent during the switches, ${String(lost)} lost, ${String(doubled)} doubled`);
  await Promise.all(nodes.map((n) => n.stop()));

  const big = await simulatedSwitches(options.quick ? 200 : 1_000, ['pubSub', 'hyparview', 'pubSub', 'hyparview'], 0.01);
  rec.add(`fdn.switch_ms_${options.quick ? '200' : '1000'}_sim_nodes`, median(big.switchMs), 'ms (virtual)');
  rec.add('fdn.switch_converged_ms_sim_nodes', median(big.convergedMs), 'ms (virtual)');
  rec.add('fdn.switch_probe_ms_sim_nodes', median(big.probeMs), 'ms (virtual)');
  rec.add('fdn.switch_wall_s_sim_nodes', median(big.wallS), 's');
  const cs = await simulatedSwitches(200, ['clientServer', 'hyparview'], 0.01);
  rec.add('fdn.switch_ms_200_sim_nodes_clientServer_round_trip', median(cs.switchMs), 'ms (virtual)');
  rec.add('fdn.switch_wall_s_200_sim_nodes_clientServer_round_trip', median(cs.wallS), 's');
  rec.add('fdn.messages_lost_during_switch', lost + big.lost + cs.lost, 'messages');
  rec.add('fdn.messages_doubled_during_switch', doubled + big.doubled + cs.doubled, 'messages');
  rec.add('fdn.messages_sent_during_switch', sent + big.sent + cs.sent, 'messages');
  rec.notes.push(
    `simulated: ${options.quick ? '200' : '1,000'} nodes (HyParView + directory, 1 ms links) switch ${big.path} with ${String(big.crashes)} crashes and ${String(big.joins)} joins in the middle of switches; the switch time is virtual (announce → commit on the asker), converged = until every node, joiners included, runs the new overlay and reaches all others`,
    `simulated clientServer: 200 nodes ${cs.path}; clientServer is not run at 1,000 simulated nodes: its FullMesh-style full-state membership gossip costs O(n²) per change, minutes of CPU at 1,000 nodes (see the issue note)`,
  );
  console.log(`results: ${rec.write()}`);
}

interface SimulatedRun {
  path: string;
  switchMs: number[];
  convergedMs: number[];
  probeMs: number[];
  wallS: number[];
  crashes: number;
  joins: number;
  sent: number;
  lost: number;
  doubled: number;
}

/**
 * `count` simulated nodes on HyParView switch along `path`; during each switch `churn` of them
 * crash and as many new ones join; four at-least-once streams between nodes that stay are counted.
 */
async function simulatedSwitches(count: number, path: TopologyName[], churn: number): Promise<SimulatedRun> {
  const name = (i: number): string => `n${String(i).padStart(4, '0')}`;
  const sim = new SimCluster({ seed: 42, node: { overlay: 'hyparview', channels: { orders: { reliability: 'at_least_once' } }, topology: { verifyTimeoutMs: 20_000 } } });
  const started = performance.now();
  await sim.start(name(0));
  for (let i = 1; i < count; i++) {
    void sim.start(name(i), [name(0)]);
    if (i % 50 === 0) await sim.run(100);
  }
  await sim.runUntil(() => sim.nodes().length === count && sim.converged('hyparview'), 300_000, `${String(count)} nodes joined`);
  console.log(`  ${String(count)} simulated nodes joined at ${String(sim.clock.now())} virtual ms (${String(Math.round((performance.now() - started) / 1000))} s)`);
  // Streams between nodes that never crash: n0001 → n0002, n0003 → n0004, …
  const streams = [1, 3, 5, 7].map((i) => {
    const from = sim.node(name(i));
    const got: number[] = [];
    const sink = sim.node(name(i + 1)).runtime.spawn(async (ctx) => {
      for (;;) got.push((await ctx.receive()) as number);
    });
    return { from, sink, got, sent: 0 };
  });
  let flowing = true;
  const tick = (): void => {
    if (!flowing) return;
    for (const s of streams) for (let k = 0; k < 5; k++) s.from.send(s.sink, s.sent++, { channel: 'orders' });
    sim.clock.setTimer(20, tick);
  };
  tick();
  const run: SimulatedRun = { path: ['hyparview', ...path].join(' → '), switchMs: [], convergedMs: [], probeMs: [], wallS: [], crashes: 0, joins: 0, sent: 0, lost: 0, doubled: 0 };
  const asker = sim.node(name(9));
  const stay = new Set([name(0), asker.name, ...streams.flatMap((s) => [s.from.name, s.sink.node])]);
  let next = count;
  for (const to of path) {
    const wall = performance.now();
    const t0 = sim.clock.now();
    const switching = asker.switchTopology(to, { reason: 'bench' });
    // Churn inside the switch: crashes and joins spread over its first 200 ms.
    const victims = sim.network.random.sample(sim.names().filter((n) => !stay.has(n)), Math.max(1, Math.round(count * churn)));
    for (const victim of victims) {
      await sim.run(200 / victims.length);
      await sim.crash(victim);
      void sim.start(name(next++), [name(0)]);
      run.crashes++;
      run.joins++;
    }
    const result = await sim.await(switching, 120_000, `the switch to ${to}`);
    if (!result.ok) throw new Error(`simulated switch to ${to} failed: ${result.error} (${result.why})`);
    await sim.runUntil(() => sim.nodes().length === count && sim.converged(to), 120_000, `every node on ${to}`);
    run.switchMs.push(result.ms);
    run.convergedMs.push(sim.clock.now() - t0);
    run.probeMs.push(result.verification.probeMs);
    run.wallS.push((performance.now() - wall) / 1000);
    console.log(
      `  → ${to}: ${String(result.ms)} ms virtual (probe ${String(result.verification.probeMs)} ms, reach ${String(result.verification.probeReach)}, ${String(result.verification.excused.length)} excused), every node on it at ${String(sim.clock.now() - t0)} ms; ${String(Math.round(performance.now() - wall))} ms wall`,
    );
    await sim.run(1_000);
  }
  flowing = false;
  const total = (): number => streams.reduce((n, s) => n + s.got.length, 0);
  const sent = streams.reduce((n, s) => n + s.sent, 0);
  await sim.run(60_000, () => total() >= sent);
  await sim.run(1_000);
  for (const s of streams) {
    const unique = new Set(s.got);
    run.lost += s.sent - unique.size;
    run.doubled += s.got.length - unique.size;
  }
  run.sent = sent;
  console.log(`  ${String(sent)} at-least-once messages during the simulated switches: ${String(run.lost)} lost, ${String(run.doubled)} doubled`);
  await sim.stopAll();
  return run;
}
