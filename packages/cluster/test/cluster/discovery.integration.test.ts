// Nodes as a deployment runs them: separate OS processes on 127.0.0.1 configured only by
// environment variables, finding each other through a real DNS server (SRV records that change
// while they run) or UDP gossip.

import { afterEach, describe, expect, it } from 'vitest';
import { TestDnsServer } from '../support/dns-server.ts';
import { freePort, killAll, startNodeProcess } from '../support/processes.ts';
import type { NodeProcess } from '../support/processes.ts';

const SECRET = 'discovery-integration-secret';

afterEach(async () => {
  await killAll();
});

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${String(timeoutMs)} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const everyoneSees = async (nodes: NodeProcess[]): Promise<boolean> => {
  const lists = await Promise.all(nodes.map((n) => n.call<string[]>('nodes')));
  return lists.every((l, i) => l.length === nodes.length - 1 && !l.includes(nodes[i]?.name as string));
};

describe('discovery across OS processes', () => {
  it('three nodes find each other through DNS SRV records, and a fourth added to DNS later joins them', async () => {
    const dns = new TestDnsServer();
    await dns.start();
    try {
      const ports = await Promise.all([0, 1, 2, 3].map(() => freePort()));
      const query = '_fdn._tcp.app.test';
      dns.a.set('node.test', ['127.0.0.1']);
      dns.srv.set(query, ports.slice(0, 3).map((port) => ({ target: 'node.test', port })));
      const env = (i: number): Record<string, string> => ({ FDN_SECRET: SECRET, FDN_LISTEN: `127.0.0.1:${String(ports[i])}`, FDN_DISCOVERY: 'dnsSrv', FDN_DISCOVERY_QUERY: query, FDN_DISCOVERY_MODE: 'ip', FDN_DISCOVERY_SERVERS: dns.address, FDN_DISCOVERY_POLLING_INTERVAL_MS: '200' });
      const nodes = await Promise.all([0, 1, 2].map((i) => startNodeProcess(`dns-${String(i)}`, env(i))));
      await until('three nodes connected to each other', () => everyoneSees(nodes), 20_000);
      const topologies = await nodes[0]?.call<{ name: string; strategy: string; peers: unknown[]; nodes: string[] }[]>('topologies');
      expect(topologies?.[0]).toMatchObject({ name: 'env', strategy: 'dnsSrv', nodes: ['dns-1', 'dns-2'] });
      expect(topologies?.[0]?.peers).toHaveLength(2);
      dns.srv.set(query, ports.map((port) => ({ target: 'node.test', port })));
      const fourth = await startNodeProcess('dns-3', env(3));
      await until('four nodes connected to each other', () => everyoneSees([...nodes, fourth]), 20_000);
    } finally {
      await dns.stop();
    }
  }, 60_000);

  it('three nodes find each other by UDP gossip signed with the cluster secret; a node with another secret is not joined', async () => {
    const port = String(40_000 + Math.floor(Math.random() * 9_000));
    const env = (secret: string): Record<string, string> => ({ FDN_SECRET: secret, FDN_LISTEN: '127.0.0.1:0', FDN_DISCOVERY: 'gossip', FDN_DISCOVERY_PORT: port, FDN_DISCOVERY_IF_ADDR: '127.255.255.255', FDN_DISCOVERY_BROADCAST_ONLY: 'true', FDN_DISCOVERY_BROADCAST_ADDR: '127.255.255.255', FDN_DISCOVERY_INTERVAL_MS: '200' });
    const stranger = await startNodeProcess('stranger', env('another-cluster-secret'));
    const nodes = await Promise.all([0, 1, 2].map((i) => startNodeProcess(`gossip-${String(i)}`, env(SECRET))));
    await until('three nodes connected to each other', () => everyoneSees(nodes), 20_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await stranger.call<string[]>('nodes')).toEqual([]);
    for (const n of nodes) expect(await n.call<string[]>('nodes')).not.toContain('stranger');
  }, 60_000);
});
