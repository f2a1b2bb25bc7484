// Connections between real OS processes on 127.0.0.1: handshakes accepted and refused, TLS, SIGKILL and
// restart, ordering per key under parallelism, and a stalled receiver.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CloseCode } from '../src/index.ts';
import { eventually, killAll, spawnNode } from './process-node.ts';

const SECRET = 'integration secret';

afterEach(killAll);

describe('connections between OS processes', () => {
  it('connection up, messages both ways; a wrong secret is refused and both keep running', async () => {
    const [a, b] = await Promise.all([spawnNode({ name: 'a', secret: SECRET }), spawnNode({ name: 'b', secret: SECRET })]);
    const peer = await a.call<{ name: string; incarnation: number }>('connect', { address: b.address });
    expect(peer).toMatchObject({ name: 'b', incarnation: b.incarnation });
    await a.call('send', { peer: 'b', count: 100 });
    await b.call('send', { peer: 'a', count: 50 });
    await eventually(async () => (await b.call<{ received: Record<string, number> }>('stats')).received['a/default'] === 100);
    await eventually(async () => (await a.call<{ received: Record<string, number> }>('stats')).received['b/default'] === 50);
    const intruder = await spawnNode({ name: 'intruder', secret: 'wrong' });
    await expect(intruder.call('connect', { address: a.address })).rejects.toMatchObject({ closeCode: CloseCode.AUTH_FAILED });
    expect((await a.call<{ connections: string[] }>('stats')).connections).toEqual(['b']);
    await a.call('send', { peer: 'b', count: 1 });
    await eventually(async () => (await b.call<{ received: Record<string, number> }>('stats')).received['a/default'] === 101);
  });

  it('SIGKILL of the peer: the connection is lost; the restarted peer (new incarnation) is reached again', async () => {
    const a = await spawnNode({ name: 'a', secret: SECRET, pingIntervalMs: 100 });
    const b = await spawnNode({ name: 'b', secret: SECRET });
    await a.call('connect', { address: b.address });
    await b.kill('SIGKILL');
    await eventually(() => a.events.some((e) => e.event === 'connectionDown' && e.peer === 'b'), 5_000);
    expect(a.events.find((e) => e.event === 'connectionDown')?.kind).toBe('lost');
    const b2 = await spawnNode({ name: 'b', secret: SECRET });
    expect(b2.incarnation).not.toBe(b.incarnation);
    const peer = await a.call<{ incarnation: number }>('connect', { address: b2.address });
    expect(peer.incarnation).toBe(b2.incarnation);
    await a.call('send', { peer: 'b', count: 10 });
    await eventually(async () => (await b2.call<{ received: Record<string, number> }>('stats')).received['a/default'] === 10);
  });

  it('keeps every partition key in order under parallelism 4', async () => {
    const channels = { data: { parallelism: 4 } };
    const a = await spawnNode({ name: 'a', secret: SECRET, channels });
    const b = await spawnNode({ name: 'b', secret: SECRET, channels });
    await a.call('connect', { address: b.address });
    await a.call('send', { peer: 'b', channel: 'data', count: 40_000, keys: 16, size: 32 });
    await eventually(async () => (await b.call<{ received: Record<string, number> }>('stats')).received['a/data'] === 40_000, 20_000);
    expect((await b.call<{ outOfOrder: number }>('stats')).outOfOrder).toBe(0);
    expect((await a.call<{ sockets: number }>('metrics', { peer: 'b', channel: 'data' })).sockets).toBe(4);
  });

  it('a stalled receiver: the sender queue stops at its bound, memory stays bounded, and nothing queued is lost', async () => {
    const MiB = 1024 * 1024;
    const channels = { data: { maxQueueBytes: 8 * MiB } };
    const a = await spawnNode({ name: 'a', secret: SECRET, channels, idleTimeoutMs: 30_000 });
    const b = await spawnNode({ name: 'b', secret: SECRET, channels, idleTimeoutMs: 30_000 });
    await a.call('connect', { address: b.address });
    await a.call('send', { peer: 'b', channel: 'data', count: 1 });
    await eventually(async () => (await b.call<{ received: Record<string, number> }>('stats')).received['a/data'] === 1);
    await b.call('pause', { peer: 'a', channel: 'data' });
    const flood = await a.call<{ statuses: Record<string, number>; maxHeapMb: number; queued: { queuedBytes: number } }>('flood', { peer: 'b', channel: 'data', ms: 1_500, size: 64 * 1024 }, 20_000);
    expect(flood.statuses.full ?? 0).toBeGreaterThan(0);
    expect(flood.queued.queuedBytes).toBeLessThanOrEqual(8 * MiB);
    // Queue bound + socket buffers + bytes in flight: far below what 1.5 s of flooding would take.
    expect(flood.maxHeapMb).toBeLessThan(200);
    const accepted = (flood.statuses.sent ?? 0) + (flood.statuses.backpressure ?? 0);
    await b.call('resume', { peer: 'a', channel: 'data' });
    await eventually(async () => (await b.call<{ received: Record<string, number> }>('stats')).received['a/data'] === 1 + accepted, 20_000);
  });

  it('three processes dialling each other at once end with exactly one connection per pair', async () => {
    const nodes = await Promise.all(['x', 'y', 'z'].map((name) => spawnNode({ name, secret: SECRET })));
    await Promise.all(nodes.flatMap((from) => nodes.filter((to) => to !== from).map((to) => from.call('connect', { address: to.address }))));
    for (const n of nodes) {
      const { connections } = await n.call<{ connections: string[] }>('stats');
      expect(connections.sort()).toEqual(nodes.filter((m) => m !== n).map((m) => m.name).sort());
      expect(n.events.filter((e) => e.event === 'connectionUp')).toHaveLength(2);
      expect(n.events.filter((e) => e.event === 'connectionDown')).toHaveLength(0);
    }
  });
});

describe('TLS between OS processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fdn-tls-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('connections over wss with a self-signed certificate made for the test', async () => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const key = readFileSync(join(dir, 'k.pem'), 'utf8');
    const cert = readFileSync(join(dir, 'c.pem'), 'utf8');
    const tls = { key, cert, ca: cert };
    const [a, b] = await Promise.all([spawnNode({ name: 'a', secret: SECRET, tls }), spawnNode({ name: 'b', secret: SECRET, tls })]);
    expect(b.address).toMatch(/^wss:/);
    await a.call('connect', { address: b.address });
    await a.call('send', { peer: 'b', count: 20 });
    await eventually(async () => (await b.call<{ received: Record<string, number> }>('stats')).received['a/default'] === 20);
  });
});
