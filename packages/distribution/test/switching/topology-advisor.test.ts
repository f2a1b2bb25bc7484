// The deciding half of topology management: rules as data with the rule named in every
// recommendation, workloads, and metrics measured on a running cluster.

import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, forWorkload, recommend, startNode, TopologyAdvisor } from '../../src/index.ts';
import type { Node, TopologyMetrics } from '../../src/index.ts';
import { stoppedAfterEach, until } from '../helpers.ts';

const started = stoppedAfterEach();
const base: TopologyMetrics = { nodeCount: 5, rttP50Ms: 0.2, rttMaxMs: 0.5, nodeLossesPerHour: 0, connections: 4, bytesOutPerSec: {}, queuedMessages: 0, workload: null, broadcastReach: null, broadcastDelayMs: null, broadcastMeasuredAt: null };

describe('topology rules', () => {
  it('follow the design document: big meshes to HyParView, small slow clusters to a full mesh, events to pub/sub, huge ones to client-server', () => {
    expect(recommend('fullMesh', { ...base, nodeCount: 8 }, DEFAULT_RULES)).toBeNull();
    expect(recommend('fullMesh', { ...base, nodeCount: 30 }, DEFAULT_RULES)).toMatchObject({ topology: 'hyparview', rule: 'big-mesh' });
    expect(recommend('fullMesh', { ...base, nodeCount: 15, nodeLossesPerHour: 10 }, DEFAULT_RULES)).toMatchObject({ topology: 'hyparview', rule: 'unstable-mesh' });
    expect(recommend('hyparview', { ...base, nodeCount: 6, rttP50Ms: 8 }, DEFAULT_RULES)).toMatchObject({ topology: 'fullMesh', rule: 'small-slow' });
    expect(recommend('hyparview', { ...base, nodeCount: 6 }, DEFAULT_RULES)).toBeNull();
    expect(recommend('hyparview', { ...base, workload: 'eventDriven' }, DEFAULT_RULES)).toMatchObject({ topology: 'pubSub', rule: 'event-driven' });
    expect(recommend('hyparview', { ...base, nodeCount: 2_000 }, DEFAULT_RULES)).toBeNull(); // no servers designated
    expect(recommend('hyparview', { ...base, nodeCount: 2_000 }, DEFAULT_RULES, true)).toMatchObject({ topology: 'clientServer', rule: 'huge-cluster' });
    // Rules are data: a user's own rule, first match wins.
    expect(recommend('fullMesh', { ...base, nodeCount: 3 }, [{ name: 'mine', minNodes: 3, to: 'static', why: 'fixed fleet' }, ...DEFAULT_RULES])).toMatchObject({ topology: 'static', rule: 'mine' });
  });

  it('workloads choose by cluster size, with a reason', () => {
    expect(forWorkload('lowLatency', 8)).toMatchObject({ topology: 'fullMesh' });
    expect(forWorkload('lowLatency', 200)).toMatchObject({ topology: 'hyparview' });
    expect(forWorkload('highThroughput', 100)).toMatchObject({ topology: 'hyparview' });
    expect(forWorkload('eventDriven', 5)).toMatchObject({ topology: 'pubSub' });
    expect(forWorkload('largeCluster', 5_000, true)).toMatchObject({ topology: 'clientServer' });
    expect(forWorkload('largeCluster', 5_000).why).toMatch(/HyParView/);
  });
});

describe('TopologyAdvisor on a running cluster', () => {
  it('measures node count, connection RTTs, bytes per channel and node losses; analyzePerformance names its rule', async () => {
    const nodes: Node[] = [];
    for (const name of ['t0', 't1', 't2']) {
      const n = await startNode({ name, secret: 'advisor-test-secret', seeds: nodes.length === 0 ? [] : [nodes[0]?.addresses[0] as string], heartbeatMs: 100 });
      started.push(n);
      nodes.push(n);
    }
    await until(() => nodes.every((n) => n.nodes().length === 2), 'connected');
    const [a, , c] = nodes as [Node, Node, Node];
    const advisor = new TopologyAdvisor(a, { rules: [{ name: 'test: three is a crowd', minNodes: 3, from: ['fullMesh'], to: 'hyparview', why: 'a test rule' }] });
    await until(() => advisor.metrics().rttP50Ms !== null, 'RTTs from pings', 5_000);
    const sink = c.runtime.spawn(async (ctx) => {
      for (;;) await ctx.receive();
    });
    for (let i = 0; i < 100; i++) a.send(sink, Buffer.alloc(1_000));
    await new Promise((r) => setTimeout(r, 1_100));
    const m = advisor.metrics();
    expect(m.nodeCount).toBe(3);
    expect(m.connections).toBe(2);
    expect(m.bytesOutPerSec.default).toBeGreaterThan(50_000);
    const report = advisor.analyzePerformance();
    expect(report.topology).toBe('fullMesh');
    expect(report.recommendation).toMatchObject({ topology: 'hyparview', rule: 'test: three is a crowd' });
    expect(advisor.optimizeForWorkload('eventDriven')).toMatchObject({ topology: 'pubSub' });
    expect(advisor.currentTopologyInfo()).toMatchObject({ topology: 'fullMesh', nodeCount: 3 });
    // A node that stops cleanly has left (not a loss); a connection that breaks is one.
    const reasons: string[] = [];
    a.onNodeEvent((e) => {
      if (e.type === 'nodedown') reasons.push(e.reason);
    });
    c.transport.connection('t0')?.close('test: break the connection', 4000);
    await until(() => reasons.length > 0, 'nodedown');
    await until(() => advisor.metrics().nodeLossesPerHour > 0, `the loss counted (${reasons.join()})`);
    advisor.stop();
  });
});
