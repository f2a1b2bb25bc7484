// One vitest run for the whole repository; each package is a project and tests run from source.
import { configDefaults, defineConfig } from 'vitest/config';

const sourceConditions = ['@fdn/source', 'import', 'node', 'default'];

export default defineConfig({
  resolve: { conditions: sourceConditions },
  ssr: { resolve: { conditions: sourceConditions, externalConditions: ['@fdn/source'] } },
  test: {
    projects: [
      {
        extends: true,
        test: { name: 'core', include: ['packages/core/test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'actors', include: ['packages/actors/test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'topology', include: ['packages/topology/test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'distribution', include: ['packages/distribution/test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'cluster', include: ['packages/cluster/test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'cli', include: ['packages/cli/test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'integration', include: ['test/**/*.test.ts', 'examples/*/test/**/*.test.ts'], exclude: [...configDefaults.exclude, 'test/bench-suites.integration.test.ts'] },
      },
      {
        // Runs every benchmark suite's --quick mode: alone, after everything else (a second group),
        // so its load does not starve the timing-sensitive tests (failure detection, chaos).
        extends: true,
        test: { name: 'bench-suites', include: ['test/bench-suites.integration.test.ts'], sequence: { groupOrder: 1 } },
      },
    ],
    // The JSON report is what .ci/run counts; the default reporter is for people.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
