// How long the split brain resolver takes from a partition to its decision, for `npm run bench --
// cluster`: five whole nodes on the simulator (virtual time), keepMajority, split 2/3. Run as a
// script it prints the result as JSON.

import { fileURLToPath } from 'node:url';
import { SimCluster } from '@fdn/distribution';
import { keepMajority, startSplitBrainResolver } from '../../src/index.ts';
import type { SplitBrainResolver } from '../../src/index.ts';

export interface SplitBrainResult {
  stableAfterMs: number;
  /** Virtual ms from the partition to the surviving side's decision. */
  decisionMs: number;
  /** Of which beyond the stable period (noticing the cut, gossip, the tick). */
  beyondStableMs: number;
  survivors: string[];
}

export async function splitBrain(options: { seed: number; stableAfterMs: number }): Promise<SplitBrainResult> {
  const sim = new SimCluster({ seed: options.seed, partitionDetectMs: 500 });
  const names = ['a', 'b', 'c', 'd', 'e'];
  for (const [i, name] of names.entries()) await sim.start(name, i === 0 ? [] : ['a']);
  await sim.runUntil(() => sim.converged(), 30_000, 'converged');
  const resolvers = new Map<string, SplitBrainResolver>();
  for (const name of names) {
    resolvers.set(name, startSplitBrainResolver(sim.node(name), { strategy: keepMajority(), clock: sim.clock, stableAfterMs: options.stableAfterMs, gossipMs: 500, whenDowned: () => void sim.stop(name) }));
  }
  await sim.run(2_000);
  const t0 = sim.clock.now();
  sim.network.partition(['a', 'b'], ['c', 'd', 'e']);
  await sim.runUntil(() => resolvers.get('c')?.decision !== null, options.stableAfterMs + 30_000, 'a decision');
  const decisionMs = sim.clock.now() - t0;
  await sim.run(5_000);
  const survivors = sim.names().sort();
  await sim.stopAll();
  return { stableAfterMs: options.stableAfterMs, decisionMs, beyondStableMs: decisionMs - options.stableAfterMs, survivors };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const options = JSON.parse(process.argv[2] ?? '{"seed":1,"stableAfterMs":20000}') as { seed: number; stableAfterMs: number };
  console.log(JSON.stringify(await splitBrain(options)));
}
