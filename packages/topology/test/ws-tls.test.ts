import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CloseCode, TopologyErrorCode } from '../src/index.ts';
import { node, stopAll, until, urlOf } from './helpers.ts';

// A self-signed certificate for 127.0.0.1, made for this test run.
const dir = mkdtempSync(join(tmpdir(), 'fdn-tls-'));
execFileSync('openssl', [
  'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
  '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
], { stdio: 'ignore' });
const key = readFileSync(join(dir, 'key.pem'));
const cert = readFileSync(join(dir, 'cert.pem'));

afterEach(stopAll);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('TLS (wss)', () => {
  it('connections over wss with a trusted self-signed certificate, channels included', async () => {
    const tls = { key, cert, ca: cert };
    const a = await node('a', { tls });
    const b = await node('b', { tls });
    expect(urlOf(a.t)).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    const connection = await a.t.connect(urlOf(b.t));
    connection.send('default', Buffer.from('over tls'));
    connection.send('bulk', Buffer.alloc(600_000, 1));
    await until(() => b.received.length === 2);
    expect(b.received.map((m) => m.payload.length).sort((x, y) => x - y)).toEqual([8, 600_000]);
  });

  it('refuses to dial a server whose certificate it does not trust', async () => {
    const server = await node('server', { tls: { key, cert, ca: cert } });
    const untrusting = await node('client', { tls: { key, cert } });
    await expect(untrusting.t.connect(urlOf(server.t))).rejects.toMatchObject({ code: TopologyErrorCode.CONNECT_FAILED });
    expect(server.t.connections()).toEqual([]);
  });

  it('still requires the cluster secret inside TLS', async () => {
    const a = await node('a', { tls: { key, cert, ca: cert } });
    const b = await node('b', { tls: { key, cert, ca: cert }, secret: 'not the secret' });
    await expect(b.t.connect(urlOf(a.t))).rejects.toMatchObject({ closeCode: CloseCode.AUTH_FAILED });
  });
});
