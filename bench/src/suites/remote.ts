// Suite `remote`: process-to-process messaging between two OS processes on 127.0.0.1, through
// @fdn/distribution (pids, codec, links): one-way throughput of small messages from one process
// to a remote one, and round trips of sequential echoes. Distributed Erlang's figures on this
// machine are the anchors (BENCHMARKS.md).

import { GenServer } from '@fdn/actors';
import type { Pid } from '@fdn/actors';
import { startNode } from '@fdn/distribution';
import type { Node } from '@fdn/distribution';
import { Recorder } from '../harness.js';
import type { SuiteOptions } from '../harness.js';
import { whileScraped } from '../scraped.js';
import { expectCount, spawnPeer } from '../peers/spawn.js';
import type { Peer } from '../peers/spawn.js';
import { quantile, RawWsClient, TAIL } from '../peers/raw-ws.js';

const SECRET = 'bench-remote';
/** Distributed Erlang on this machine (BENCHMARKS.md): one-way msgs/s, round trip p50/p99 µs. */
const ERLANG = { oneway: 233_000, p50: 144, p99: 250 };


/** Nodedowns the peer saw so far (reported with each `ready`). */
let peerNodedowns = 0;

async function expect(peer: Peer, n: number): Promise<void> {
  peerNodedowns = ((await expectCount(peer, n)).nodedowns as number | undefined) ?? 0;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function runRemote(options: SuiteOptions): Promise<void> {
  const n = options.quick ? 200_000 : 1_000_000;
  const rtts = options.quick ? 2_000 : 10_000;
  const repetitions = options.quick ? 1 : 3;
  const rec = new Recorder('remote', options, repetitions);
  rec.notes.push(
    `one-way: ${String(n)} messages ['seq', i, '${TAIL}'] from a process to a process on the other node (ctx-level send through the node, waiting on backpressure)`,
    `round trip: ${String(rtts)} sequential { from, i } → i echoes between two processes`,
    `medians of ${String(repetitions)} repetitions; Erlang anchors from BENCHMARKS.md`,
  );
  const peer = await spawnPeer('remote-peer', { secret: SECRET });
  const node = await startNode({ name: 'remote-sender', secret: SECRET, seeds: [peer.info.address as string], channels: { reliable: { reliability: 'at_least_once' }, parallel: { parallelism: 4 } } });
  const raw = await RawWsClient.connect(peer.info.ws as string);
  let nodedowns = 0;
  node.onNodeEvent((e) => {
    if (e.type === 'nodedown') nodedowns++;
  });
  const calls = options.quick ? 2_000 : 10_000;
  for (let i = 0; i < 500 && !node.nodes().includes('remote-receiver'); i++) await new Promise((r) => setTimeout(r, 10));
  // Warm up.
  await oneway(node, peer, 50_000);
  await roundTrips(node, 1_000);
  for (let rep = 0; rep < repetitions; rep++) {
    console.log(`repetition ${String(rep + 1)}/${String(repetitions)}`);
    // The same with the sender's /metrics scraped every 100 ms; which goes first alternates (the second run of a pair is warmer).
    const plain = async (): Promise<void> => {
      rec.add('fdn.oneway_mps', await oneway(node, peer, n), 'msg/s');
    };
    const scraped = async (): Promise<void> => {
      const { result, scrapes } = await whileScraped(node, () => oneway(node, peer, n));
      console.log(`  one-way with /metrics scraped: ${String(scrapes)} scrapes during the run`);
      rec.add('fdn_metrics.oneway_mps', result, 'msg/s');
    };
    if (rep % 2 === 0) {
      await plain();
      await scraped();
    } else {
      await scraped();
      await plain();
    }
    await expect(peer, n);
    rec.add('ws_raw_batched.oneway_mps', await raw.oneway(n, 500), 'msg/s');
    rec.add('fdn.at_least_once_mps', await oneway(node, peer, n, 'reliable'), 'msg/s');
    rec.add('fdn.parallel_pairs_mps', await parallelPairs(node, peer, n), 'msg/s');
    // Round trips: @fdn and raw ws alternating in blocks of 500 (both see the same machine state).
    const fdnSamples: number[] = [];
    const wsSamples: number[] = [];
    for (let done = 0; done < rtts; done += 500) {
      fdnSamples.push(...(await roundTrips(node, 500)));
      wsSamples.push(...(await raw.roundTrips(500)));
    }
    fdnSamples.sort((a, b) => a - b);
    wsSamples.sort((a, b) => a - b);
    rec.add('fdn.rtt_p50_us', quantile(fdnSamples, 0.5), 'µs');
    rec.add('fdn.rtt_p99_us', quantile(fdnSamples, 0.99), 'µs');
    rec.add('ws_raw.rtt_p50_us', quantile(wsSamples, 0.5), 'µs');
    rec.add('ws_raw.rtt_p99_us', quantile(wsSamples, 0.99), 'µs');
    rec.add('fdn.call_rps', await callRate(node, calls), 'calls/s');
  }
  rec.add('fdn.broadcast_encodes_per_message', await broadcastEncodes(options.quick ? 200 : 1_000), 'encodes');
  await expect(peer, 1);
  // Both nodes live and loaded for the whole run: any nodedown is a false positive of the failure detector.
  rec.add('fdn.false_nodedowns', nodedowns + peerNodedowns, 'events');
  raw.close();
  await node.stop();
  await peer.stop();
  const mps = rec.get('fdn.oneway_mps')?.median ?? 0;
  const rawMps = rec.get('ws_raw_batched.oneway_mps')?.median ?? 1;
  const p50 = rec.get('fdn.rtt_p50_us')?.median ?? 0;
  const rawP50 = rec.get('ws_raw.rtt_p50_us')?.median ?? 1;
  rec.add('fdn.oneway_vs_erlang', mps / ERLANG.oneway, '×');
  const withMetrics = (rec.get('fdn_metrics.oneway_mps')?.median ?? 0) / (mps === 0 ? 1 : mps);
  rec.add('fdn_metrics.oneway_ratio', withMetrics, '×');
  rec.add('fdn.rtt_p50_vs_ws_raw', p50 / rawP50, '×');
  const f = (x: number | undefined, d = 1): string => (x === undefined ? '–' : x.toFixed(d));
  console.log(`one-way ${f(mps / 1e6, 2)} M msg/s (raw batched ws ${f(rawMps / 1e6, 2)} M: ${f(mps / rawMps, 2)}×; distributed Erlang ${String(ERLANG.oneway / 1e3)} k: ${f(mps / ERLANG.oneway)}×)`);
  console.log(`one-way with the sender's /metrics scraped every 100 ms: ${f(withMetrics, 3)}× of without (target >= 0.95)`);
  console.log(`at-least-once one-way ${f((rec.get('fdn.at_least_once_mps')?.median ?? 0) / 1e6, 2)} M msg/s`);
  console.log(`8 pairs over a channel of 4 connections ${f((rec.get('fdn.parallel_pairs_mps')?.median ?? 0) / 1e6, 2)} M msg/s (one pair on one connection: ${f(mps / 1e6, 2)} M)`);
  console.log(`a broadcast to 8 nodes encodes ${f(rec.get('fdn.broadcast_encodes_per_message')?.median, 2)} values per message`);
  console.log(`round trip p50 ${f(p50)} µs (raw ws ${f(rawP50)} µs: ${f(p50 / rawP50, 2)}×), p99 ${f(rec.get('fdn.rtt_p99_us')?.median)} µs (Erlang ${String(ERLANG.p50)} / ${String(ERLANG.p99)} µs)`);
  console.log(`failure detector false positives during the run (both nodes): ${String(rec.get('fdn.false_nodedowns')?.median)}`);
  console.log(`remote GenServer.call ${f((rec.get('fdn.call_rps')?.median ?? 0) / 1e3)} k calls/s (sequential)`);
  console.log(`\nwrote ${rec.write()}`);
}

/** One-way msgs/s of `n` messages to the remote sink on `channel`, waiting out backpressure (and, at least once, a full store). */
async function oneway(node: Node, peer: Peer, n: number, channel = 'default'): Promise<number> {
  await expect(peer, n);
  return node.runtime.run(async (ctx) => {
    ctx.register('reporter');
    const sink = { name: 'sink', node: 'remote-receiver' };
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const status = node.send(sink, ['seq', i, TAIL], { channel });
      if (status === 'full') {
        i--;
        await node.whenWritable('remote-receiver', channel);
        // At least once: the store is full until acknowledgements come back.
        while (node.unacknowledged('remote-receiver') > 50_000) await tick();
      } else if (status === 'backpressure') {
        await node.whenWritable('remote-receiver', channel);
      } else if ((i & 4095) === 0) {
        await tick();
      }
    }
    await ctx.receive((m) => m === 'done', 120_000);
    const mps = n / ((performance.now() - t0) / 1000);
    ctx.unregister('reporter');
    return mps;
  });
}

/** msgs/s of `n` messages from 8 sender processes to 8 receivers (`sink0`…`sink7`) over a channel of 4 connections: the pairs spread over them. */
async function parallelPairs(node: Node, peer: Peer, n: number): Promise<number> {
  await expect(peer, n);
  const per = Math.floor(n / 8);
  return node.runtime.run(async (ctx) => {
    ctx.register('reporter');
    const t0 = performance.now();
    const senders = Array.from({ length: 8 }, (_, k) =>
      node.runtime.run(async () => {
        const sink = { name: `sink${String(k)}`, node: 'remote-receiver' };
        for (let i = 0; i < per; i++) {
          const status = node.send(sink, ['seq', i, TAIL], { channel: 'parallel' });
          if (status === 'backpressure' || status === 'full') await node.whenWritable('remote-receiver', 'parallel');
          else if ((i & 1023) === 0) await tick();
        }
      }),
    );
    await Promise.all(senders);
    for (let rest = per * 8; rest < n; rest++) node.send({ name: 'sink0', node: 'remote-receiver' }, ['seq', rest, TAIL], { channel: 'parallel' });
    await ctx.receive((m) => m === 'done', 120_000);
    const mps = n / ((performance.now() - t0) / 1000);
    ctx.unregister('reporter');
    return mps;
  });
}

/** Values encoded per `broadcast` to 8 other nodes (all in this process, on a direct channel): 1 when a fan-out encodes once. */
async function broadcastEncodes(count: number): Promise<number> {
  const hub = await startNode({ name: 'fanout-hub', secret: SECRET });
  const others = await Promise.all(Array.from({ length: 8 }, (_, i) => startNode({ name: `fanout-${String(i)}`, secret: SECRET, seeds: [hub.addresses[0] as string] })));
  let received = 0;
  for (const o of others) {
    o.runtime.register(
      'listener',
      o.runtime.spawn(async (ctx) => {
        for (;;) {
          await ctx.receive();
          received++;
        }
      }),
    );
  }
  for (let i = 0; i < 1_000 && hub.nodes().length < 8; i++) await new Promise((r) => setTimeout(r, 10));
  const before = hub.encodes;
  for (let i = 0; i < count; i++) hub.broadcast('listener', { i });
  const perMessage = (hub.encodes - before) / count;
  for (let i = 0; i < 1_000 && received < count * 8; i++) await new Promise((r) => setTimeout(r, 10));
  if (received < count * 8) throw new Error(`broadcast: ${String(received)} of ${String(count * 8)} deliveries`);
  await Promise.all([hub, ...others].map((x) => x.stop()));
  return perMessage;
}

/** Sequential remote GenServer.calls per second. */
function callRate(node: Node, count: number): Promise<number> {
  return node.runtime.run(async (ctx) => {
    for (let i = 0; i < 500 && node.whereisGlobal('counter') === undefined; i++) await new Promise((r) => setTimeout(r, 10));
    const server = node.whereisGlobal('counter');
    if (server === undefined) throw new Error('the peer did not register its counter');
    const t0 = performance.now();
    for (let i = 0; i < count; i++) await GenServer.call(ctx, server, 1);
    return count / ((performance.now() - t0) / 1000);
  });
}

function roundTrips(node: Node, count: number): Promise<number[]> {
  return node.runtime.run(async (ctx) => {
    const echo = { name: 'echo', node: 'remote-receiver' };
    const samples: number[] = [];
    const self: Pid = ctx.self;
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      ctx.send(echo, { from: self, i });
      await ctx.receive((m) => m === i, 5_000);
      samples.push((performance.now() - t0) * 1000);
    }
    return samples;
  });
}
