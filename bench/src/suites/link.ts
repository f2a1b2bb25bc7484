// Suite `link` (the transport alone): a connection's throughput and round trip of small messages
// between two OS processes, @fdn's connection beside raw ws (batched and one message per frame) in the same run.

import { createWsTransport } from '@fdn/topology';
import type { Connection } from '@fdn/topology';
import { pack } from 'msgpackr';
import { Recorder } from '../harness.js';
import type { SuiteOptions } from '../harness.js';
import { expectCount, spawnPeer } from '../peers/spawn.js';
import type { Peer } from '../peers/spawn.js';
import { quantile, RawWsClient, roundTrips, TAIL } from '../peers/raw-ws.js';

const SECRET = 'bench';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function runLink(options: SuiteOptions): Promise<void> {
  const n = options.quick ? 200_000 : 1_000_000;
  const rtts = options.quick ? 2_000 : 10_000;
  const repetitions = options.quick ? 1 : 3;
  const rec = new Recorder('link', options, repetitions);
  rec.notes.push(`one-way: ${n} messages ['seq', i, '${TAIL}'] packed with msgpackr, decoded by the receiver`, `round trip: ${rtts} sequential echoes each, @fdn and raw ws alternating in blocks of 500`, `medians of ${repetitions} repetitions`);
  const peer = await spawnPeer('link-peer', { secret: SECRET });
  const sender = createWsTransport({ name: 'link-sender', secret: SECRET, idleTimeoutMs: 60_000 });
  let onDone: (() => void) | null = null;
  let onEcho: (() => void) | null = null;
  sender.onMessage('control', () => onDone?.());
  sender.onMessage('default', () => onEcho?.());
  await sender.start();
  const connection = await sender.connect(peer.info.address as string);
  const raw = await RawWsClient.connect(peer.info.ws as string);
  // Warm up the sockets and the JIT.
  await fdnOneway(connection, peer, 20_000, (f) => (onDone = f));

  for (let rep = 0; rep < repetitions; rep++) {
    console.log(`repetition ${rep + 1}/${repetitions}`);
    rec.add('fdn.link_oneway_mps', await fdnOneway(connection, peer, n, (f) => (onDone = f)), 'msg/s');
    for (const [key, batch] of [['ws_raw_batched', 500], ['ws_raw_array', -500], ['ws_raw_unbatched', 1]] as const) {
      await expectCount(peer, n);
      rec.add(`${key}.oneway_mps`, await raw.oneway(n, batch), 'msg/s');
    }
    // Alternate blocks of 500 so both see the same machine state (idle cores wake slowly).
    const fdnSamples: number[] = [];
    const wsSamples: number[] = [];
    for (let done = 0; done < rtts; done += 500) {
      fdnSamples.push(...(await roundTrips(500, (p) => connection.send('default', p), (f) => (onEcho = f))));
      wsSamples.push(...(await raw.roundTrips(500)));
    }
    fdnSamples.sort((x, y) => x - y);
    wsSamples.sort((x, y) => x - y);
    rec.add('fdn.link_rtt_p50_us', quantile(fdnSamples, 0.5), 'µs');
    rec.add('fdn.link_rtt_p99_us', quantile(fdnSamples, 0.99), 'µs');
    rec.add('ws_raw.rtt_p50_us', quantile(wsSamples, 0.5), 'µs');
    rec.add('ws_raw.rtt_p99_us', quantile(wsSamples, 0.99), 'µs');
  }
  raw.close();
  await sender.stop();
  await peer.stop();

  rec.table('One-way throughput of small messages (higher is better)', [
    { label: 'one-way msgs/s', metric: 'oneway_mps', impls: ['ws_raw_batched', 'ws_raw_unbatched', 'ws_raw_array'] },
    { label: '@fdn connection one-way msgs/s', metric: 'link_oneway_mps', impls: ['fdn'] },
  ]);
  const f = rec.get('fdn.link_oneway_mps')?.median ?? 0;
  const b = rec.get('ws_raw_batched.oneway_mps')?.median ?? 1;
  const u = rec.get('ws_raw_unbatched.oneway_mps')?.median ?? 1;
  console.log(`@fdn connection / raw ws batched: ${(f / b).toFixed(2)}×; / raw ws unbatched: ${(f / u).toFixed(2)}×`);
  rec.table('Round trip (lower is better)', [
    { label: 'p50 µs', metric: 'rtt_p50_us', impls: ['ws_raw'] },
    { label: 'p99 µs', metric: 'rtt_p99_us', impls: ['ws_raw'] },
    { label: '@fdn connection p50 µs', metric: 'link_rtt_p50_us', impls: ['fdn'] },
    { label: '@fdn connection p99 µs', metric: 'link_rtt_p99_us', impls: ['fdn'] },
  ]);
  const fr = rec.get('fdn.link_rtt_p50_us')?.median ?? 0;
  const wr = rec.get('ws_raw.rtt_p50_us')?.median ?? 1;
  console.log(`@fdn connection round trip p50 / raw ws: ${(fr / wr).toFixed(2)}×`);
  console.log('\nAnchors (BENCHMARKS.md, this machine): distributed Erlang 233 k msg/s, 144/250 µs; raw ws one per frame 146 k; 100 per frame 1.39 M (1.85 M with bufferutil); 500 per frame 1.85 M (2.36 M).');
  console.log(`\nwrote ${rec.write()}`);
}

async function fdnOneway(connection: Connection, peer: Peer, n: number, setDone: (f: () => void) => void): Promise<number> {
  await expectCount(peer, n);
  const done = new Promise<void>((resolve) => {
    setDone(resolve);
  });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const status = connection.send('default', pack(['seq', i, TAIL]));
    if (status === 'full') {
      i--;
      await connection.whenWritable('default');
    } else if (status === 'backpressure') {
      await connection.whenWritable('default');
    } else if ((i & 4095) === 0) {
      await tick();
    }
  }
  await done;
  return n / ((performance.now() - t0) / 1000);
}
