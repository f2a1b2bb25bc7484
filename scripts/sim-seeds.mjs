#!/usr/bin/env node
// Runs the simulation tests over many seeds (the long run beside npm test's handful):
//   npm run sim-seeds -- 1-200      (default 1-50)
// A failure names its seed; FDN_SIM_SEED=<seed> replays it.
import { spawnSync } from 'node:child_process';

const seeds = process.argv[2] ?? '1-50';
const result = spawnSync('npx', ['vitest', 'run', '--project', 'topology', '--project', 'distribution', 'sim-overlays', 'topology-switch.sim'], { stdio: 'inherit', env: { ...process.env, FDN_SIM_SEEDS: seeds } });
process.exit(result.status ?? 1);
