// TLS for nodes, configured on startNode: connections over wss with a cluster CA made in the test,
// and mutual TLS refusing a node whose certificate the CA did not sign (the secret alone is not
// enough then).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '@fdn/core';
import { afterAll, describe, expect, it } from 'vitest';
import { startNode } from '../../src/index.ts';
import { makeCertificates, openssl } from '../../../../test/support/certificates.ts';
import { stoppedAfterEach, until } from '../helpers.ts';

const SECRET = 'tls-test-secret';
const started = stoppedAfterEach();
const dir = mkdtempSync(join(tmpdir(), 'fdn-node-tls-'));

// A cluster CA, and a certificate for 127.0.0.1 signed by it; and a stranger's self-signed one.
makeCertificates(dir, 'node', 'fdn test CA');
openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-keyout', 'stranger.key', '-out', 'stranger.pem', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1');
const read = (f: string): Buffer => readFileSync(join(dir, f));
const cluster = { key: read('node.key'), cert: read('node.pem'), ca: read('ca.pem') };

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('TLS on startNode', () => {
  it('nodes connection over wss with the cluster CA; messages and calls flow', async () => {
    const a = await startNode({ name: 'a', secret: SECRET, tls: cluster });
    started.push(a);
    expect(a.addresses[0]).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    const b = await startNode({ name: 'b', secret: SECRET, tls: cluster, seeds: [a.addresses[0] as string] });
    started.push(b);
    await b.joined({ timeoutMs: 5_000 });
    const got: unknown[] = [];
    const sink = a.runtime.spawn(async (ctx) => {
      for (;;) got.push(await ctx.receive());
    });
    b.send(sink, { over: 'tls', big: Buffer.alloc(300_000, 1) });
    await until(() => got.length === 1, 'the message crossed');
    expect((got[0] as { over: string }).over).toBe('tls');
  });

  it('mutual TLS: a node with a certificate the CA did not sign is refused even with the right secret; one with a signed certificate joins', async () => {
    const a = await startNode({ name: 'a', secret: SECRET, tls: { ...cluster, mutual: true } });
    started.push(a);
    const strangerLog = memoryLogger();
    const stranger = await startNode({ name: 'stranger', secret: SECRET, tls: { key: read('stranger.key'), cert: read('stranger.pem'), ca: read('ca.pem') }, seeds: [a.addresses[0] as string], logger: strangerLog });
    started.push(stranger);
    await expect(stranger.joined({ timeoutMs: 1_500 })).rejects.toMatchObject({ code: 'FDN_ERR_NOT_JOINED' });
    expect(a.nodes()).toEqual([]);
    const friend = await startNode({ name: 'friend', secret: SECRET, tls: { ...cluster, mutual: true }, seeds: [a.addresses[0] as string] });
    started.push(friend);
    await friend.joined({ timeoutMs: 5_000 });
    await until(() => a.nodes().join() === 'friend', 'a sees friend (and only friend)');
  });

  it('a plain node cannot join a TLS one, and says why', async () => {
    const a = await startNode({ name: 'a', secret: SECRET, tls: cluster });
    started.push(a);
    const plain = await startNode({ name: 'plain', secret: SECRET, seeds: [a.addresses[0]?.replace('wss://', 'ws://') as string], logger: memoryLogger() });
    started.push(plain);
    const err = (await plain.joined({ timeoutMs: 1_500 }).catch((e: unknown) => e)) as { code: string; message: string };
    expect(err.code).toBe('FDN_ERR_NOT_JOINED');
    expect(err.message).toContain('may use TLS: try wss://');
  });
});
