// Suite `link`: raw link throughput and round trip of small messages between two OS processes,
// @fdn's link beside raw ws (batched and one message per frame) in the same run.

import { createWsTransport } from '@fdn/topology';
import type { Link } from '@fdn/topology';
import { pack, unpack } from 'msgpackr';
import { WebSocket } from 'ws';
import { Recorder } from '../harness.js';
import type { SuiteOptions } from '../harness.js';
import { spawnPeer } from '../peers/spawn.js';
import type { Peer } from '../peers/spawn.js';

const SECRET = 'bench';
/** First byte of a length-prefixed batch (msgpack messages here are arrays, which never start so). */
const BATCH_MARK = Buffer.from([0x01]);
const TAIL = '0123456789';

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

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

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
  const link = await sender.connect(peer.info.address as string);
  const ws = new WebSocket(peer.info.ws as string, { perMessageDeflate: false });
  await new Promise((resolve) => ws.once('open', resolve));
  let wsDone: (() => void) | null = null;
  let wsEcho: (() => void) | null = null;
  ws.on('message', (data: Buffer) => {
    if ((unpack(data) as unknown[])[0] === 'done') wsDone?.();
    else wsEcho?.();
  });
  // Warm up the sockets and the JIT.
  await fdnOneway(link, peer, 20_000, (f) => (onDone = f));

  for (let rep = 0; rep < repetitions; rep++) {
    console.log(`repetition ${rep + 1}/${repetitions}`);
    rec.add('fdn.link_oneway_mps', await fdnOneway(link, peer, n, (f) => (onDone = f)), 'msg/s');
    rec.add('ws_raw_batched.oneway_mps', await wsOneway(ws, peer, n, 500, (f) => (wsDone = f)), 'msg/s');
    rec.add('ws_raw_array.oneway_mps', await wsOneway(ws, peer, n, -500, (f) => (wsDone = f)), 'msg/s');
    rec.add('ws_raw_unbatched.oneway_mps', await wsOneway(ws, peer, n, 1, (f) => (wsDone = f)), 'msg/s');
    // Alternate blocks of 500 so both see the same machine state (idle cores wake slowly).
    const fdnSamples: number[] = [];
    const wsSamples: number[] = [];
    for (let done = 0; done < rtts; done += 500) {
      fdnSamples.push(...(await roundTrips(500, (p) => link.send('default', p), (f) => (onEcho = f))));
      wsSamples.push(
        ...(await roundTrips(
          500,
          (p) => {
            ws.send(p);
          },
          (f) => (wsEcho = f),
        )),
      );
    }
    fdnSamples.sort((x, y) => x - y);
    wsSamples.sort((x, y) => x - y);
    rec.add('fdn.link_rtt_p50_us', quantile(fdnSamples, 0.5), 'µs');
    rec.add('fdn.link_rtt_p99_us', quantile(fdnSamples, 0.99), 'µs');
    rec.add('ws_raw.rtt_p50_us', quantile(wsSamples, 0.5), 'µs');
    rec.add('ws_raw.rtt_p99_us', quantile(wsSamples, 0.99), 'µs');
  }
  ws.close();
  await sender.stop();
  await peer.stop();

  rec.table('One-way throughput of small messages (higher is better)', [
    { label: 'one-way msgs/s', metric: 'oneway_mps', impls: ['ws_raw_batched', 'ws_raw_unbatched', 'ws_raw_array'] },
    { label: '@fdn link one-way msgs/s', metric: 'link_oneway_mps', impls: ['fdn'] },
  ]);
  const f = rec.get('fdn.link_oneway_mps')?.median ?? 0;
  const b = rec.get('ws_raw_batched.oneway_mps')?.median ?? 1;
  const u = rec.get('ws_raw_unbatched.oneway_mps')?.median ?? 1;
  console.log(`@fdn link / raw ws batched: ${(f / b).toFixed(2)}×; / raw ws unbatched: ${(f / u).toFixed(2)}×`);
  rec.table('Round trip (lower is better)', [
    { label: 'p50 µs', metric: 'rtt_p50_us', impls: ['ws_raw'] },
    { label: 'p99 µs', metric: 'rtt_p99_us', impls: ['ws_raw'] },
    { label: '@fdn link p50 µs', metric: 'link_rtt_p50_us', impls: ['fdn'] },
    { label: '@fdn link p99 µs', metric: 'link_rtt_p99_us', impls: ['fdn'] },
  ]);
  const fr = rec.get('fdn.link_rtt_p50_us')?.median ?? 0;
  const wr = rec.get('ws_raw.rtt_p50_us')?.median ?? 1;
  console.log(`@fdn link round trip p50 / raw ws: ${(fr / wr).toFixed(2)}×`);
  console.log('\nAnchors (BENCHMARKS.md, this machine): distributed Erlang 233 k msg/s, 144/250 µs; raw ws one per frame 146 k; 100 per frame 1.39 M (1.85 M with bufferutil); 500 per frame 1.85 M (2.36 M).');
  console.log(`\nwrote ${rec.write()}`);
}

async function fdnOneway(link: Link, peer: Peer, n: number, setDone: (f: () => void) => void): Promise<number> {
  await expect(peer, n);
  const done = new Promise<void>((resolve) => {
    setDone(resolve);
  });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const status = link.send('default', pack(['seq', i, TAIL]));
    if (status === 'full') {
      i--;
      await link.whenWritable('default');
    } else if (status === 'backpressure') {
      await link.whenWritable('default');
    } else if ((i & 4095) === 0) {
      await tick();
    }
  }
  await done;
  return n / ((performance.now() - t0) / 1000);
}

/**
 * Raw ws one-way. `batch` 1: one message per frame. `batch` > 1: each message packed on its own,
 * `batch` of them length-prefixed in one frame (what a transport does). `batch` < 0: `-batch`
 * messages packed as one msgpack array (a best case no general transport can use).
 */
async function wsOneway(ws: WebSocket, peer: Peer, n: number, batch: number, setDone: (f: () => void) => void): Promise<number> {
  await expect(peer, n);
  const done = new Promise<void>((resolve) => {
    setDone(resolve);
  });
  const t0 = performance.now();
  let i = 0;
  while (i < n) {
    if (batch === 1) {
      ws.send(pack(['seq', i, TAIL]));
      i++;
    } else if (batch < 0) {
      const msgs: unknown[] = [];
      for (let k = 0; k < -batch && i < n; k++, i++) msgs.push(['seq', i, TAIL]);
      ws.send(pack(msgs));
    } else {
      const parts: Buffer[] = [BATCH_MARK];
      for (let k = 0; k < batch && i < n; k++, i++) {
        const p = pack(['seq', i, TAIL]);
        const len = Buffer.allocUnsafe(4);
        len.writeUInt32LE(p.length);
        parts.push(len, p);
      }
      ws.send(Buffer.concat(parts));
    }
    if (ws.bufferedAmount > 4 * 1024 * 1024) {
      while (ws.bufferedAmount > 1024 * 1024) await tick();
    } else if ((i & 4095) < Math.abs(batch)) {
      await tick();
    }
  }
  await done;
  return n / ((performance.now() - t0) / 1000);
}

async function roundTrips(count: number, send: (payload: Buffer) => void, setEcho: (f: () => void) => void): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const back = new Promise<void>((resolve) => {
      setEcho(resolve);
    });
    const t0 = performance.now();
    send(pack(['echo', i, TAIL]));
    await back;
    samples.push((performance.now() - t0) * 1000);
  }
  return samples;
}
