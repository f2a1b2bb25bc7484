// Suite `hol`: head-of-line blocking. A ping due every 1 ms on `control` while ten 50 MB payloads
// go on `bulk` to the same peer (another OS process); then the same with everything on one
// channel; and pings alone. See DESIGN.md "Head-of-line blocking".

import { createWsTransport } from '@fdn/topology';
import type { Connection } from '@fdn/topology';
import { Recorder } from '../harness.js';
import type { SuiteOptions } from '../harness.js';
import { spawnPeer } from '../peers/spawn.js';
import type { Peer } from '../peers/spawn.js';
import { startDiagnostics } from '../diagnostics.js';

const SECRET = 'bench';
const PING_BYTES = 16;

interface Phase {
  p50: number;
  p99: number;
  max: number;
  pings: number;
  mbps: number;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

export async function runHol(options: SuiteOptions): Promise<void> {
  const bulkCount = 10;
  const bulkBytes = options.quick ? 10 * 1024 * 1024 : 50 * 1024 * 1024;
  const repetitions = options.quick ? 1 : 5;
  const rec = new Recorder('hol', options, repetitions);
  rec.notes.push(
    `${bulkCount} payloads of ${bulkBytes / 2 ** 20} MiB; a ${PING_BYTES}-byte ping every 1 ms; round trip measured from send to echo`,
    `medians of ${repetitions} repetitions; receiver in its own OS process on 127.0.0.1`,
  );
  const peer = await spawnPeer('hol-peer', { secret: SECRET });
  const sender = createWsTransport({ name: 'hol-sender', secret: SECRET, idleTimeoutMs: 60_000 });
  const pongs = new Map<string, (payload: Buffer) => void>();
  const acks = new Map<string, () => void>();
  for (const channel of ['control', 'default']) {
    sender.onMessage(channel, (_link, payload) => {
      if (payload.length === PING_BYTES) pongs.get(channel)?.(payload);
      else acks.get(channel)?.();
    });
  }
  await sender.start();
  const connection = await sender.connect(peer.info.address as string);
  const bulk = Buffer.alloc(bulkBytes, 0xab);
  // Open every channel socket before measuring.
  await phase(connection, pongs, acks, 'control', 'bulk', 1, 1024, 100);
  await phase(connection, pongs, acks, 'default', 'default', 1, 1024, 100);

  for (let rep = 0; rep < repetitions; rep++) {
    console.log(`repetition ${rep + 1}/${repetitions}`);
    const idle = await phase(connection, pongs, acks, 'control', 'bulk', 0, 0, 2_000);
    rec.add('fdn.idle_ping_p50_ms', idle.p50, 'ms');
    rec.add('fdn.idle_ping_p99_ms', idle.p99, 'ms');
    const diag = startDiagnostics();
    peer.child.send({ diag: 'reset' });
    const split = await phase(connection, pongs, acks, 'control', 'bulk', bulkCount, bulkBytes, 0, bulk);
    if (diag !== null) {
      console.log(diag.report('sender during bulk'));
      console.log(await askDiag(peer, 'during bulk'));
    }
    rec.add('fdn.ping_p50_ms', split.p50, 'ms');
    rec.add('fdn.ping_p99_ms', split.p99, 'ms');
    rec.add('fdn.ping_max_ms', split.max, 'ms');
    rec.add('fdn.bulk_mbps', split.mbps, 'MB/s');
    rec.add('fdn.pings_during_bulk', split.pings, 'pings');
    const single = await phase(connection, pongs, acks, 'default', 'default', bulkCount, bulkBytes, 0, bulk);
    rec.add('fdn_single_channel.ping_p50_ms', single.p50, 'ms');
    rec.add('fdn_single_channel.ping_p99_ms', single.p99, 'ms');
    rec.add('fdn_single_channel.ping_max_ms', single.max, 'ms');
    rec.add('fdn_single_channel.bulk_mbps', single.mbps, 'MB/s');
  }
  await sender.stop();
  await peer.stop();

  rec.table('Ping round trip while bulk flows (lower is better)', [
    { label: 'ping p50, control + bulk channels', metric: 'ping_p50_ms', impls: ['fdn', 'fdn_single_channel'] },
    { label: 'ping p99', metric: 'ping_p99_ms', impls: ['fdn', 'fdn_single_channel'] },
    { label: 'ping max', metric: 'ping_max_ms', impls: ['fdn', 'fdn_single_channel'] },
    { label: 'ping p99 with no bulk', metric: 'idle_ping_p99_ms', impls: ['fdn'] },
  ]);
  rec.table('Bulk throughput (higher is better)', [{ label: 'bulk MB/s', metric: 'bulk_mbps', impls: ['fdn', 'fdn_single_channel'] }]);
  console.log('\nAnchors (BENCHMARKS.md, this machine): distributed Erlang p99 46.6 ms at 953 MB/s; Partisan (control + bulk) 46.8 ms at 598 MB/s;');
  console.log('ws second connection without chunking 217 ms (112 MB/s), with bufferutil 49.8 ms (310 MB/s). Target: p99 <= 5 ms with bulk >= 500 MB/s.');
  console.log(`\nwrote ${rec.write()}`);
}

function askDiag(peer: Peer, label: string): Promise<string> {
  return new Promise((resolve) => {
    const onMessage = (m: { diag?: string }): void => {
      if (m.diag === undefined) return;
      peer.child.off('message', onMessage);
      resolve(m.diag);
    };
    peer.child.on('message', onMessage);
    peer.child.send({ diag: label });
  });
}

/** Pings on `pingChannel` every 1 ms while `count` bulk payloads go on `bulkChannel`; or for `idleMs` if count is 0. */
async function phase(
  connection: Connection,
  pongs: Map<string, (payload: Buffer) => void>,
  acks: Map<string, () => void>,
  pingChannel: string,
  bulkChannel: string,
  count: number,
  bytes: number,
  idleMs: number,
  payload?: Buffer,
): Promise<Phase> {
  const samples: number[] = [];
  pongs.set(pingChannel, (p) => samples.push(performance.now() - p.readDoubleLE(8)));
  let seq = 0;
  const timer = setInterval(() => {
    const ping = Buffer.alloc(PING_BYTES);
    ping.writeUInt32LE(seq++, 0);
    ping.writeDoubleLE(performance.now(), 8);
    connection.send(pingChannel, ping);
  }, 1);
  const t0 = performance.now();
  if (count === 0) {
    await new Promise((resolve) => setTimeout(resolve, idleMs));
  } else {
    let acked = 0;
    const allAcked = new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => {
        reject(new Error(`bulk not acknowledged within 120 s (${acked}/${count})`));
      }, 120_000);
      acks.set(pingChannel === bulkChannel ? bulkChannel : 'control', () => {
        if (++acked === count) {
          clearTimeout(deadline);
          resolve();
        }
      });
    });
    const body = payload ?? Buffer.alloc(bytes, 1);
    for (let i = 0; i < count; i++) {
      await connection.whenWritable(bulkChannel);
      connection.send(bulkChannel, body);
    }
    await allAcked;
  }
  const elapsed = (performance.now() - t0) / 1000;
  clearInterval(timer);
  await new Promise((resolve) => setTimeout(resolve, 50));
  samples.sort((x, y) => x - y);
  return { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99), max: samples.at(-1) ?? Number.NaN, pings: samples.length, mbps: count === 0 ? 0 : (count * bytes) / 1e6 / elapsed };
}
