// Suite `remote`: process-to-process messaging between two OS processes on 127.0.0.1, through
// @fdn/distribution (pids, codec, links): one-way throughput of small messages from one process
// to a remote one, and round trips of sequential echoes. Distributed Erlang's figures on this
// machine are the anchors (BENCHMARKS.md).

import type { Pid } from '@fdn/actors';
import { startNode } from '@fdn/distribution';
import type { Node } from '@fdn/distribution';
import { Recorder } from '../harness.js';
import type { SuiteOptions } from '../harness.js';
import { spawnPeer } from '../peers/spawn.js';
import type { Peer } from '../peers/spawn.js';

const SECRET = 'bench-remote';
const TAIL = '0123456789';
/** Distributed Erlang on this machine (BENCHMARKS.md): one-way msgs/s, round trip p50/p99 µs. */
const ERLANG = { oneway: 233_000, p50: 144, p99: 250 };

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

function expect(peer: Peer, n: number): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (m: { ready?: boolean }): void => {
      if (m.ready !== true) return;
      peer.child.off('message', onMessage);
      resolve();
    };
    peer.child.on('message', onMessage);
    peer.child.send({ expect: n });
  });
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
  const node = await startNode({ name: 'remote-sender', secret: SECRET, seeds: [peer.info.address as string] });
  for (let i = 0; i < 500 && !node.nodes().includes('remote-receiver'); i++) await new Promise((r) => setTimeout(r, 10));
  // Warm up.
  await oneway(node, peer, 50_000);
  await roundTrips(node, 1_000);
  for (let rep = 0; rep < repetitions; rep++) {
    console.log(`repetition ${String(rep + 1)}/${String(repetitions)}`);
    rec.add('fdn.oneway_mps', await oneway(node, peer, n), 'msg/s');
    const samples = await roundTrips(node, rtts);
    samples.sort((a, b) => a - b);
    rec.add('fdn.rtt_p50_us', quantile(samples, 0.5), 'µs');
    rec.add('fdn.rtt_p99_us', quantile(samples, 0.99), 'µs');
  }
  await node.stop();
  await peer.stop();
  const mps = rec.get('fdn.oneway_mps')?.median ?? 0;
  rec.add('fdn.oneway_vs_erlang', mps / ERLANG.oneway, '×');
  console.log(`one-way ${(mps / 1e6).toFixed(2)} M msg/s (distributed Erlang ${String(ERLANG.oneway / 1e3)} k: ${(mps / ERLANG.oneway).toFixed(1)}×)`);
  console.log(`round trip p50 ${String(rec.get('fdn.rtt_p50_us')?.median)} µs, p99 ${String(rec.get('fdn.rtt_p99_us')?.median)} µs (Erlang ${String(ERLANG.p50)} / ${String(ERLANG.p99)} µs)`);
  console.log(`\nwrote ${rec.write()}`);
}

async function oneway(node: Node, peer: Peer, n: number): Promise<number> {
  await expect(peer, n);
  return node.runtime.run(async (ctx) => {
    ctx.register('reporter');
    const sink = { name: 'sink', node: 'remote-receiver' };
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const status = node.send(sink, ['seq', i, TAIL]);
      if (status === 'full') {
        i--;
        await node.whenWritable('remote-receiver');
      } else if (status === 'backpressure') {
        await node.whenWritable('remote-receiver');
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
