// The cluster on real nodes (WebSockets on 127.0.0.1, in this process): what topologies find is
// joined, failures are retried and reported, and the libcluster-style API does what it says.

import { memoryLogger } from '@fdn/core';
import { startNode } from '@fdn/distribution';
import type { Node, NodeEvent } from '@fdn/distribution';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterErrorCode, nodeHost, startCluster } from '../../src/index.ts';
import type { Cluster } from '../../src/index.ts';
import { waitFor } from '../support/wait.ts';

const SECRET = 'cluster-test-secret';
const nodes: Node[] = [];
const clusters: Cluster[] = [];

afterEach(async () => {
  for (const c of clusters.splice(0)) await c.stop();
  await Promise.all(nodes.splice(0).map((n) => n.stop({ timeoutMs: 1_000 })));
});

async function node(name: string, logger = memoryLogger()): Promise<Node> {
  const n = await startNode({ name, secret: SECRET, logger });
  nodes.push(n);
  return n;
}

async function cluster(n: Node, ...args: Parameters<typeof startCluster> extends [unknown, ...infer R] ? R : never): Promise<Cluster> {
  const c = await startCluster(n, ...args);
  clusters.push(c);
  return c;
}

const address = (n: Node): string => n.addresses[0] as string;

describe('cluster formation', () => {
  it('joins what a topology finds; topologies() and nodeList() say what was found and what is connected', async () => {
    const [a, b, c] = [await node('a'), await node('b'), await node('c')];
    const ca = await cluster(a, { topologies: { fixed: { strategy: 'static', config: { hosts: [address(b), address(c), address(a)] } } } });
    await waitFor('a connected to b and c', () => a.nodes().length === 2);
    expect(ca.nodeList('fixed')).toEqual(['b', 'c']);
    expect(ca.nodeList()).toEqual(['b', 'c']);
    expect(ca.topologies()).toEqual([{ name: 'fixed', strategy: 'static', peers: [{ address: address(b) }, { address: address(c) }].sort((x, y) => (x.address < y.address ? -1 : 1)), nodes: ['b', 'c'], lastError: null }]);
  });

  it('a node found but not reachable is tried again, reported by telemetry and a warning, and joined once it runs', async () => {
    const logger = memoryLogger();
    const a = await node('a', logger);
    const events: string[] = [];
    a.runtime.telemetry.attach('fdn.cluster.', (event, _m, meta) => events.push(`${event} ${String(meta.address)}`));
    // A port nobody listens on yet: reserve it by starting and stopping a node there.
    const probe = await node('later');
    const later = address(probe);
    await probe.stop();
    nodes.pop();
    const ca = await cluster(a, { topologies: { fixed: { strategy: 'static', config: { hosts: [later] }, reconnectMs: 200 } } });
    await waitFor('a failed join reported', () => events.includes(`fdn.cluster.connect_node.error ${later}`), 10_000);
    expect(logger.entries.some((e) => e.level === 'warn' && e.message.includes(`joining ${later}, found by topology 'fixed', failed`))).toBe(true);
    const port = Number(new URL(later).port);
    const back = await startNode({ name: 'later', secret: SECRET, listen: { host: '127.0.0.1', port }, logger: memoryLogger() });
    nodes.push(back);
    await waitFor('joined once it runs', () => ca.nodeList('fixed').includes('later'), 10_000);
    expect(events).toContain(`fdn.cluster.connect_node.ok ${later}`);
  });

  it('connectNodes and disconnectNodes act on what a topology found (nodedown on disconnect)', async () => {
    const [a, b, c] = [await node('a'), await node('b'), await node('c')];
    const ca = await cluster(a, { topologies: { one: { strategy: 'static', config: { hosts: [address(b)] } }, two: { strategy: 'static', config: { hosts: [address(c)] } } } });
    await waitFor('both joined', () => a.nodes().length === 2);
    const events: string[] = [];
    a.runtime.telemetry.attach('fdn.cluster.disconnect_node', (event, _m, meta) => events.push(`${event} ${String(meta.node)} ${String(meta.topology)}`));
    const downs: NodeEvent[] = [];
    a.onNodeEvent((e) => {
      if (e.type === 'nodedown') downs.push(e);
    });
    expect(ca.disconnectNodes('one')).toEqual(['b']);
    await waitFor('nodedown of b', () => downs.some((e) => e.node === 'b'));
    expect(downs.some((e) => e.node === 'c')).toBe(false);
    expect(events).toEqual(['fdn.cluster.disconnect_node.ok b one']);
    const result = await ca.connectNodes('one');
    expect(result).toEqual({ connected: [address(b)], failed: [] });
    await waitFor('b back', () => a.nodes().includes('b'));
  });

  it('connectNodes lists what it could not join, and an unknown topology is an error naming the known ones', async () => {
    const a = await node('a');
    const ca = await cluster(a, { topologies: { dead: { strategy: 'static', config: { hosts: ['ws://127.0.0.1:1'] }, reconnectMs: 60_000 } } });
    const result = await ca.connectNodes('dead');
    expect(result.connected).toEqual([]);
    expect(result.failed).toEqual([{ address: 'ws://127.0.0.1:1', reason: expect.any(String) as string }]);
    expect(() => ca.nodeList('nope')).toThrow(expect.objectContaining({ code: ClusterErrorCode.UNKNOWN_TOPOLOGY, message: expect.stringContaining('the topologies are dead') as string }));
  });

  it('several topologies run side by side, and one failing does not stop the other', async () => {
    const [a, b] = [await node('a'), await node('b')];
    const events: string[] = [];
    a.runtime.telemetry.attach('fdn.cluster.discovery', (event, m, meta) => events.push(`${event} ${String(meta.topology)} ${String(m.count)}`));
    const ca = await cluster(a, { topologies: { broken: { strategy: 'dnsPoll', config: { query: 'nothing.test', servers: ['127.0.0.1:1'], timeoutMs: 100 } }, fixed: { strategy: 'static', config: { hosts: [address(b)] } } } });
    await waitFor('b joined', () => a.nodes().includes('b'));
    const broken = ca.topologies().find((t) => t.name === 'broken');
    expect(broken?.lastError).toMatch(/DNS lookup of 'nothing.test'/);
    expect(events).toContain('fdn.cluster.discovery.error broken 1');
    expect(events).toContain('fdn.cluster.discovery.peers fixed 1');
  });

  it('with nothing configured the node is a cluster of one, and says so', async () => {
    const logger = memoryLogger();
    const a = await node('a', logger);
    const ca = await cluster(a, undefined, { env: {} });
    expect(ca.topologies()).toEqual([]);
    expect(logger.entries.some((e) => e.level === 'info' && e.message.includes('no discovery configured'))).toBe(true);
  });

  it('warns when a topology has found nobody for a while', async () => {
    const logger = memoryLogger();
    const a = await node('a', logger);
    await cluster(a, { topologies: { lonely: { strategy: 'static', config: { hosts: [] } } } }, { warnAloneAfterMs: 100 });
    await waitFor('the warning', () => logger.entries.find((e) => e.level === 'warn' && e.message.includes("topology 'lonely' (static) has found no other node")));
  });

  it('a bad configuration throws before anything starts', async () => {
    const a = await node('a');
    await expect(startCluster(a, { topologies: { k: { strategy: 'kubernetes', config: {} } } })).rejects.toMatchObject({ code: ClusterErrorCode.BAD_CONFIG });
    expect(nodeHost(a).nodes()).toEqual([]);
  });
});
