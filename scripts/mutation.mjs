// Mutation testing (StrykerJS with its vitest runner) of the modules where a silent bug costs most:
// the supervisor, the at-least-once channels, HyParView with its member directory, and the codec.
// Each target runs its own tests against every mutant of its sources; a mutant that no test
// kills is a behaviour nothing checks. Writes mutation/reports/<target>.{json,html} and the scores
// to mutation/results.json.
//
//   npm run mutation                 every target (about an hour on 2 cores)
//   npm run mutation -- codec reliable

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const TARGETS = {
  supervisor: {
    mutate: ['packages/actors/src/supervisor/**/*.ts'],
    // Every test that runs a supervisor: its own, the restart-intensity properties, the orderly stop.
    tests: ['packages/actors/test/supervisor.test.ts', 'packages/actors/test/properties.test.ts', 'packages/actors/test/runtime-stop.test.ts'],
  },
  reliable: {
    mutate: ['packages/distribution/src/reliable/reliable-channels.ts'],
    tests: ['packages/distribution/test/reliable/at-least-once.test.ts'],
  },
  hyparview: {
    mutate: ['packages/topology/src/peer-service/hyparview/**/*.ts'],
    tests: ['packages/topology/test/directory.test.ts', 'packages/topology/test/peer-service-compliance.test.ts', 'packages/topology/test/sim-overlays.test.ts'],
    // The simulated runs only (the same tests on real sockets take seconds each), one seed.
    names: 'MembershipDirectory|HyParView.*simulated|HyParView and Plumtree',
    env: { FDN_SIM_SEED: '1' },
  },
  codec: {
    mutate: ['packages/distribution/src/codec/**/*.ts'],
    tests: ['packages/distribution/test/codec/codec.test.ts'],
  },
};

const chosen = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const name of chosen) {
  if (!(name in TARGETS)) {
    console.error(`unknown target '${name}': one of ${Object.keys(TARGETS).join(', ')}`);
    process.exit(2);
  }
}
const names = chosen.length > 0 ? chosen : Object.keys(TARGETS);
const reports = join(root, 'mutation', 'reports');
mkdirSync(reports, { recursive: true });
const resultsFile = join(root, 'mutation', 'results.json');
/** Scores of earlier runs are kept: a run of some targets updates theirs only. */
function earlierResults() {
  try {
    return JSON.parse(readFileSync(resultsFile, 'utf8'));
  } catch {
    return {};
  }
}
const results = earlierResults();

for (const name of names) {
  const target = TARGETS[name];
  const config = {
    $schema: '../../node_modules/@stryker-mutator/core/schema/stryker-schema.json',
    testRunner: 'vitest',
    plugins: ['@stryker-mutator/vitest-runner'],
    vitest: { configFile: 'mutation/vitest.config.ts', related: false },
    mutate: target.mutate,
    coverageAnalysis: 'perTest',
    concurrency: 2,
    timeoutMS: 30_000,
    reporters: ['json', 'html', 'clear-text', 'progress-append-only'],
    jsonReporter: { fileName: `mutation/reports/${name}.json` },
    htmlReporter: { fileName: `mutation/reports/${name}.html` },
    clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true, reportMutants: false },
    tempDirName: '.stryker-tmp',
    cleanTempDir: true,
    ignorePatterns: ['bench', 'examples', 'docs', '.packs', 'test-results', 'mutation/reports', '**/dist', '.turbo', '.changeset'],
  };
  const configFile = join(reports, `${name}.stryker.json`);
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const started = Date.now();
  console.log(`\n== ${name}: mutating ${target.mutate.join(', ')} against ${target.tests.join(', ')}`);
  execFileSync(process.execPath, [join(root, 'node_modules/@stryker-mutator/core/bin/stryker.js'), 'run', configFile], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...target.env, FDN_MUTATION_TESTS: target.tests.join(','), ...(target.names ? { FDN_MUTATION_NAMES: target.names } : {}) },
  });
  const report = JSON.parse(readFileSync(join(reports, `${name}.json`), 'utf8'));
  const count = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, CompileError: 0, RuntimeError: 0, Ignored: 0 };
  for (const file of Object.values(report.files)) for (const m of file.mutants) count[m.status] = (count[m.status] ?? 0) + 1;
  const detected = count.Killed + count.Timeout;
  const valid = detected + count.Survived + count.NoCoverage;
  results[name] = {
    score: valid === 0 ? null : Math.round((1000 * detected) / valid) / 10,
    killed: count.Killed,
    timeout: count.Timeout,
    survived: count.Survived,
    noCoverage: count.NoCoverage,
    invalid: count.CompileError + count.RuntimeError,
    minutes: Math.round((Date.now() - started) / 6_000) / 10,
    at: new Date().toISOString(),
  };
  writeFileSync(resultsFile, JSON.stringify(results, null, 2) + '\n');
}

console.log('\nmutation score (killed + timed out) / (killed + timed out + survived + no coverage):');
for (const [name, r] of Object.entries(results)) console.log(`  ${name.padEnd(11)} ${String(r.score).padStart(5)} %  (${r.killed} killed, ${r.timeout} timed out, ${r.survived} survived, ${r.noCoverage} not covered; ${r.minutes} min)`);
