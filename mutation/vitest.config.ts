// The vitest configuration of a mutation run (scripts/mutation.mjs): one target's tests, chosen by
// FDN_MUTATION_TESTS (comma-separated globs) and FDN_MUTATION_NAMES (a test-name pattern).
import { defineConfig } from 'vitest/config';

const sourceConditions = ['@fdn/source', 'import', 'node', 'default'];
const include = (process.env.FDN_MUTATION_TESTS ?? '').split(',').filter((g) => g !== '');
if (include.length === 0) throw new Error('FDN_MUTATION_TESTS is empty: run scripts/mutation.mjs');

export default defineConfig({
  resolve: { conditions: sourceConditions },
  ssr: { resolve: { conditions: sourceConditions, externalConditions: ['@fdn/source'] } },
  test: {
    include,
    ...(process.env.FDN_MUTATION_NAMES !== undefined ? { testNamePattern: process.env.FDN_MUTATION_NAMES } : {}),
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
