// `npm run bench -- <suite> [--quick]`: runs one benchmark suite.

import { runChaos } from './suites/chaos.js';
import { runCluster } from './suites/cluster.js';
import { runHol } from './suites/hol.js';
import { runLink } from './suites/link.js';
import { runLocal } from './suites/local.js';
import { runRemote } from './suites/remote.js';
import { runScale } from './suites/scale.js';
import { runSim } from './suites/sim.js';
import { runSwitch } from './suites/switch.js';
import type { SuiteOptions } from './harness.js';

const suites: Record<string, (options: SuiteOptions) => Promise<void>> = {
  local: runLocal,
  hol: runHol,
  link: runLink,
  sim: runSim,
  scale: runScale,
  remote: runRemote,
  switch: runSwitch,
  chaos: runChaos,
  cluster: runCluster,
};

const args = process.argv.slice(2);
const name = args.find((a) => !a.startsWith('-'));
const quick = args.includes('--quick');
const suite = name === undefined ? undefined : suites[name];
if (suite === undefined) {
  console.error(`usage: npm run bench -- <suite> [--quick]\nsuites: ${Object.keys(suites).join(', ')}`);
  process.exitCode = 2;
} else {
  if ((globalThis as { gc?: unknown }).gc === undefined) console.warn('note: run node with --expose-gc for memory figures (npm run bench does)');
  await suite({ quick });
}
