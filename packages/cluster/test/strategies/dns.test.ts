// The DNS strategies against a real DNS server on 127.0.0.1 whose records change during the test.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClusterErrorCode, dnsPoll, dnsSrv } from '../../src/index.ts';
import type { Peer, Strategy } from '../../src/index.ts';
import { components, SELF, strategyCompliance } from '../support/compliance.ts';
import { TestDnsServer } from '../support/dns-server.ts';
import { waitFor } from '../support/wait.ts';

const portOf = (address: string): number => Number(new URL(address).port);

strategyCompliance('dnsSrv', async () => {
  const dns = new TestDnsServer();
  await dns.start();
  const name = 'fdn.prod.svc.cluster.local';
  const setPeers = (addresses: readonly string[]): Promise<void> => {
    dns.srv.set(name, addresses.map((a) => ({ target: 'localhost.test', port: portOf(a) })));
    return Promise.resolve();
  };
  dns.a.set('localhost.test', ['127.0.0.1']);
  const initial = ['ws://127.0.0.1:4001', 'ws://127.0.0.1:4002'];
  await setPeers([...initial, SELF.addresses[0] as string]);
  return {
    initial,
    setPeers,
    create: (c) => dnsSrv({ service: 'fdn', namespace: 'prod', mode: 'ip', servers: [dns.address], pollingIntervalMs: 50, timeoutMs: 300 })(c),
    breakSource: () => (dns.failing = true),
    restoreSource: () => (dns.failing = false),
    close: () => dns.stop(),
  };
});

strategyCompliance('dnsPoll', async () => {
  // A records carry no port: each "node" is a distinct loopback IP on the same port.
  const dns = new TestDnsServer();
  await dns.start();
  const ipOf = (a: string): string => new URL(a).hostname;
  const setPeers = (addresses: readonly string[]): Promise<void> => {
    dns.a.set('fdn-headless.test', addresses.map(ipOf));
    return Promise.resolve();
  };
  const initial = ['ws://127.0.0.2:4370', 'ws://127.0.0.3:4370'];
  await setPeers([...initial, 'ws://127.0.0.1:4370']);
  return {
    initial,
    extra: ['ws://127.0.0.9:4370', 'ws://127.0.0.10:4370'],
    setPeers,
    create: (c) => dnsPoll({ query: 'fdn-headless.test', servers: [dns.address], pollingIntervalMs: 50, timeoutMs: 300, family: 4 })({ ...c, self: { name: SELF.name, addresses: ['ws://127.0.0.1:4370'] } }),
    breakSource: () => (dns.failing = true),
    restoreSource: () => (dns.failing = false),
    close: () => dns.stop(),
  };
});

describe('DNS strategies', () => {
  let dns: TestDnsServer;
  const running: Strategy[] = [];
  beforeEach(async () => {
    dns = new TestDnsServer();
    await dns.start();
  });
  afterEach(async () => {
    for (const s of running.splice(0)) await s.stop();
    await dns.stop();
  });
  const start = async (s: Strategy): Promise<Strategy> => {
    running.push(s);
    await s.start();
    return s;
  };

  it('dnsPoll reads A and AAAA records, names nodes <basename>@<ip>, and uses the given port', async () => {
    dns.a.set('app.test', ['10.0.0.2', '10.0.0.1']);
    dns.aaaa.set('app.test', ['fd00::1']);
    const s = await start(dnsPoll({ query: 'app.test', nodeBasename: 'app', port: 4380, servers: [dns.address] })(components()));
    expect(s.peers()).toEqual<Peer[]>([
      { name: 'app@10.0.0.1', address: 'ws://10.0.0.1:4380' },
      { name: 'app@10.0.0.2', address: 'ws://10.0.0.2:4380' },
      { name: 'app@fd00::1', address: 'ws://[fd00::1]:4380' },
    ]);
  });

  it('dnsSrv in hostname mode dials the SRV targets by name, on the ports the records give', async () => {
    dns.srv.set('_fdn._tcp.app.test', [
      { target: 'app-0.app.test', port: 4370 },
      { target: 'app-1.app.test', port: 4371 },
    ]);
    const s = await start(dnsSrv({ query: '_fdn._tcp.app.test', nodeBasename: 'app', servers: [dns.address] })(components()));
    expect(s.peers()).toEqual<Peer[]>([
      { name: 'app@app-0.app.test', address: 'ws://app-0.app.test:4370' },
      { name: 'app@app-1.app.test', address: 'ws://app-1.app.test:4371' },
    ]);
  });

  it('a name with no records is an empty answer, not a failure', async () => {
    const s = dnsPoll({ query: 'nobody.test', servers: [dns.address] })(components());
    const errors: unknown[] = [];
    s.on('error', (e) => errors.push(e));
    await start(s);
    expect(s.peers()).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('a DNS server that does not answer is an error naming the server, retried with backoff', async () => {
    const address = dns.address;
    await dns.stop();
    const s = dnsPoll({ query: 'app.test', servers: [address], timeoutMs: 100, pollingIntervalMs: 50, maxBackoffMs: 200 })(components());
    const errors: { code: string; message: string }[] = [];
    s.on('error', (e) => errors.push(e));
    await start(s);
    expect(errors[0]?.code).toBe(ClusterErrorCode.DISCOVERY_FAILED);
    expect(errors[0]?.message).toContain(address);
    await waitFor('a second try', () => errors.length >= 2, 5_000);
  });

  it('dnsSrv without query, or without service and namespace, is a configuration error', () => {
    expect(() => dnsSrv({ service: 'fdn' })).toThrow(expect.objectContaining({ code: ClusterErrorCode.BAD_CONFIG }));
  });
});
