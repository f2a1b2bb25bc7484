// Split brain resolution on the simulator: whole nodes (SimCluster) on a virtual clock, partitioned
// in every shape the issue names, for every strategy. After the stable period and a heal, the
// nodes still running must be one side (never two), and the side each strategy promises (so never
// none where it promises one). Deterministic by seed.

import { SimCluster } from '@fdn/distribution';
import { describe, expect, it } from 'vitest';
import { downAll, keepMajority, keepOldest, keepReferee, nodeDowningHost, startSplitBrainResolver, staticQuorum } from '../../src/index.ts';
import type { DowningStrategy, SplitBrainResolver } from '../../src/index.ts';

// Longer than a cut takes to be noticed (0.5 s here) plus a full mesh's redial after a heal (2–5 s).
const STABLE_MS = 10_000;

/** Cut 2/3 for 1 s, healed until everyone is connected again: a view that never holds still for STABLE_MS. */
async function flap(sim: SimCluster, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    sim.network.partition(['a', 'b'], ['c', 'd', 'e']);
    await sim.run(1_000);
    sim.network.heal();
    await sim.runUntil(() => sim.converged(), 8_000, 'the cluster connected again after a flap');
  }
}

interface Scenario {
  name: string;
  nodes: number;
  /** Makes the failure (partition, cut, crashes) on the running simulation. */
  act(sim: SimCluster): Promise<void> | void;
}

const SCENARIOS: Scenario[] = [
  { name: '50/50', nodes: 4, act: (sim) => { sim.network.partition(['a', 'b'], ['c', 'd']); } },
  { name: '2/3', nodes: 5, act: (sim) => { sim.network.partition(['a', 'b'], ['c', 'd', 'e']); } },
  { name: 'the oldest isolated', nodes: 5, act: (sim) => { sim.network.partition(['a'], ['b', 'c', 'd', 'e']); } },
  { name: 'one isolated', nodes: 5, act: (sim) => { sim.network.partition(['e'], ['a', 'b', 'c', 'd']); } },
  { name: 'asymmetric: b and d cut from each other only', nodes: 5, act: (sim) => { sim.network.cut('b', 'd'); } },
  { name: 'asymmetric one way: what b sends d is lost', nodes: 5, act: (sim) => { sim.network.cut('b', 'd', { oneWay: true }); } },
  {
    name: 'flapping, then split 2/3',
    nodes: 5,
    act: async (sim) => {
      await flap(sim, 5);
      sim.network.partition(['a', 'b'], ['c', 'd', 'e']);
    },
  },
];

/** Which nodes each strategy keeps in each scenario (the survivors, as a set of names). */
const EXPECTED: Record<string, Record<string, string[]>> = {
  keepMajority: { '50/50': ['a', 'b'], '2/3': ['c', 'd', 'e'], 'the oldest isolated': ['b', 'c', 'd', 'e'], 'one isolated': ['a', 'b', 'c', 'd'], 'asymmetric: b and d cut from each other only': ['a', 'c', 'e'], 'asymmetric one way: what b sends d is lost': ['a', 'c', 'e'], 'flapping, then split 2/3': ['c', 'd', 'e'] },
  keepOldest: { '50/50': ['a', 'b'], '2/3': ['a', 'b'], 'the oldest isolated': ['b', 'c', 'd', 'e'], 'one isolated': ['a', 'b', 'c', 'd'], 'asymmetric: b and d cut from each other only': ['a', 'c', 'e'], 'asymmetric one way: what b sends d is lost': ['a', 'c', 'e'], 'flapping, then split 2/3': ['a', 'b'] },
  keepReferee: { '50/50': ['c', 'd'], '2/3': ['c', 'd', 'e'], 'the oldest isolated': ['b', 'c', 'd', 'e'], 'one isolated': ['a', 'b', 'c', 'd'], 'asymmetric: b and d cut from each other only': ['a', 'c', 'e'], 'asymmetric one way: what b sends d is lost': ['a', 'c', 'e'], 'flapping, then split 2/3': ['c', 'd', 'e'] },
  // A quorum of 3: a 4-node cluster split 2/2 has no side with a quorum, so none stays (its promise is only "never two").
  staticQuorum: { '50/50': [], '2/3': ['c', 'd', 'e'], 'the oldest isolated': ['b', 'c', 'd', 'e'], 'one isolated': ['a', 'b', 'c', 'd'], 'asymmetric: b and d cut from each other only': ['a', 'c', 'e'], 'asymmetric one way: what b sends d is lost': ['a', 'c', 'e'], 'flapping, then split 2/3': ['c', 'd', 'e'] },
  downAll: Object.fromEntries(SCENARIOS.map((s) => [s.name, []])),
};

const STRATEGIES: Record<string, () => DowningStrategy> = {
  keepMajority: () => keepMajority(),
  keepOldest: () => keepOldest(),
  keepReferee: () => keepReferee({ referee: 'c' }),
  staticQuorum: () => staticQuorum({ quorumSize: 3 }),
  downAll: () => downAll(),
};

/** A converged full-mesh cluster of `n` nodes a, b, c… (started in that order: a is the oldest), each with a resolver. */
async function cluster(n: number, strategy: () => DowningStrategy, seed: number): Promise<{ sim: SimCluster; names: string[]; downed: Set<string>; resolvers: Map<string, SplitBrainResolver> }> {
  const sim = new SimCluster({ seed, partitionDetectMs: 500 });
  const names = 'abcdefgh'.slice(0, n).split('');
  for (const [i, name] of names.entries()) await sim.start(name, i === 0 ? [] : ['a']);
  await sim.runUntil(() => sim.converged(), 30_000, 'the cluster converged');
  const downed = new Set<string>();
  const resolvers = new Map<string, SplitBrainResolver>();
  for (const name of names) {
    resolvers.set(name, startSplitBrainResolver(sim.node(name), { strategy: strategy(), clock: sim.clock, stableAfterMs: STABLE_MS, gossipMs: 500,
      whenDowned: () => {
      downed.add(name);
      void sim.stop(name);
    } }));
  }
  await sim.run(2_000);
  return { sim, names, downed, resolvers };
}

/** The nodes running at the end, after the decision and a heal. */
async function outcome(sim: SimCluster): Promise<string[]> {
  await sim.run(STABLE_MS + 10_000);
  sim.network.heal();
  await sim.run(10_000);
  return sim.names().sort();
}

describe('split brain resolution (simulated)', () => {
  for (const [strategyName, strategy] of Object.entries(STRATEGIES)) {
    describe(strategyName, () => {
      for (const scenario of SCENARIOS) {
        it(`${scenario.name}: one side stays, the one ${strategyName} promises`, async () => {
          const { sim } = await cluster(scenario.nodes, strategy, 42);
          await scenario.act(sim);
          const survivors = await outcome(sim);
          expect(survivors).toEqual(EXPECTED[strategyName]?.[scenario.name]);
          // The survivors form one cluster again, and every one of them sees only the others.
          for (const s of survivors) expect(sim.node(s).nodes().sort()).toEqual(survivors.filter((x) => x !== s));
          await sim.stopAll();
        }, 60_000);
      }
    });
  }

  it('nothing is decided while the view keeps changing, and nothing at all without a partition', async () => {
    const { sim, downed, resolvers } = await cluster(5, () => keepMajority(), 7);
    await flap(sim, 8);
    await sim.run(STABLE_MS * 3);
    expect(downed.size).toBe(0);
    expect([...resolvers.values()].every((r) => r.decision === null)).toBe(true);
    expect(sim.names()).toHaveLength(5);
    await sim.stopAll();
  }, 60_000);
});

describe('the cost of a settled cluster', () => {
  it('sends only what changed: in a settled cluster, one full exchange per node every ten ticks and nothing else', async () => {
    const sim = new SimCluster({ seed: 3, partitionDetectMs: 500 });
    const names = ['a', 'b', 'c', 'd', 'e'];
    for (const [i, name] of names.entries()) await sim.start(name, i === 0 ? [] : ['a']);
    await sim.runUntil(() => sim.converged(), 30_000, 'converged');
    let sent = 0;
    for (const name of names) {
      const host = nodeDowningHost(sim.node(name), { clock: sim.clock });
      startSplitBrainResolver(sim.node(name), { host: { ...host, send: (to, m) => { sent++; host.send(to, m); } }, strategy: keepMajority(), gossipMs: 500 });
    }
    await sim.run(5_000);
    const settled = sent;
    await sim.run(10_000); // 20 ticks per node
    expect(sent - settled).toBeLessThanOrEqual(names.length * 2);
    await sim.stopAll();
  }, 60_000);
});

describe('a crash during the stable period', () => {
  // A second failure while the sides wait: every strategy still keeps exactly the side it
  // promises when the crash is not of a member its rule hinges on.
  const cases: { strategy: string; partition: string[][]; crash: string; survivors: string[] }[] = [
    { strategy: 'keepMajority', partition: [['a', 'b'], ['c', 'd', 'e']], crash: 'b', survivors: ['c', 'd', 'e'] },
    { strategy: 'keepMajority', partition: [['a', 'b'], ['c', 'd']], crash: 'd', survivors: ['a', 'b'] },
    { strategy: 'keepOldest', partition: [['a', 'b'], ['c', 'd', 'e']], crash: 'e', survivors: ['a', 'b'] },
    { strategy: 'keepReferee', partition: [['a', 'b'], ['c', 'd', 'e']], crash: 'e', survivors: ['c', 'd'] },
    { strategy: 'staticQuorum', partition: [['a', 'b'], ['c', 'd', 'e', 'f']], crash: 'f', survivors: ['c', 'd', 'e'] },
  ];
  for (const c of cases) {
    it(`${c.strategy}: ${c.partition.map((s) => s.join('')).join('|')}, ${c.crash} crashes halfway: ${c.survivors.join('')} stays`, async () => {
      const n = c.partition.flat().length;
      const { sim } = await cluster(n, STRATEGIES[c.strategy] as () => DowningStrategy, 11);
      sim.network.partition(...c.partition);
      await sim.run(STABLE_MS / 2);
      await sim.crash(c.crash);
      expect(await outcome(sim)).toEqual(c.survivors);
      await sim.stopAll();
    }, 60_000);
  }

  it('keepMajority: when the crash takes the only majority away, every side goes down (no rule without a third party can tell a crash from a partition; Akka documents the same)', async () => {
    const { sim } = await cluster(5, () => keepMajority(), 13);
    sim.network.partition(['a', 'b'], ['c', 'd', 'e']);
    await sim.run(STABLE_MS / 2);
    await sim.crash('e');
    expect(await outcome(sim)).toEqual([]);
  }, 60_000);
});
