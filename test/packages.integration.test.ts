// The packages as a user gets them: packed as for a registry, installed into a fresh project
// outside the monorepo, compiled with `tsc --strict` (NodeNext, skipLibCheck off: the published
// declarations must stand on their own), and run as three OS processes. The README's first
// example is compiled and run there too, as printed.

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readmeBlocks } from './docs/readme-blocks.ts';

const root = join(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'fdn-consumer-'));
const project = join(work, 'app');

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

const run = (cmd: string, args: string[], cwd: string, timeoutMs: number): string => execFileSync(cmd, args, { cwd, encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });

describe('the published packages', () => {
  it('install into a fresh project, compile strict NodeNext against their own declarations, and run three processes', () => {
    const tarballs = JSON.parse(run(process.execPath, [join(root, 'scripts/pack-packages.mjs'), join(work, 'packs')], root, 60_000)) as Record<string, string>;
    expect(Object.keys(tarballs).sort()).toEqual(['@fdn/actors', '@fdn/cli', '@fdn/cluster', '@fdn/core', '@fdn/distribution', '@fdn/topology']);
    cpSync(join(root, 'test/fixtures/consumer'), project, { recursive: true });
    // The README's first node example, exactly as printed (it runs, then stops the node).
    const first = readmeBlocks(join(root, 'README.md')).find((b) => b.runnable);
    expect(first, 'the README marks its first example runnable').toBeDefined();
    writeFileSync(join(project, 'readme-example.ts'), first?.code ?? '');
    const types = JSON.parse(readFileSync(join(root, 'node_modules/@types/node/package.json'), 'utf8')) as { version: string };
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'fdn-consumer', private: true, type: 'module', dependencies: Object.fromEntries(Object.entries(tarballs).map(([name, file]) => [name, `file:${file}`])), devDependencies: { '@types/node': types.version } }, null, 2));
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', '--loglevel=error'], project, 120_000);

    // What was installed is what a registry would serve: no workspace-only condition, the files a package owes its users.
    for (const name of Object.keys(tarballs)) {
      const dir = join(project, 'node_modules', name);
      const manifest = readFileSync(join(dir, 'package.json'), 'utf8');
      expect(manifest).not.toContain('@fdn/source');
      expect(manifest).not.toMatch(/"@fdn\/[a-z]+": "\d/);
      for (const file of ['LICENSE', 'README.md', 'CHANGELOG.md', 'dist/index.d.ts']) expect(existsSync(join(dir, file)), `${name}/${file}`).toBe(true);
    }

    try {
      run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', project], project, 120_000);
    } catch (err) {
      throw new Error(`tsc failed in the consumer project:\n${String((err as { stdout?: string }).stdout)}`, { cause: err });
    }
    const output = run(process.execPath, ['dist/main.js'], project, 60_000).trim().split('\n').pop() ?? '';
    expect(JSON.parse(output)).toEqual({ w1: 15, w2: 15, 'w1-map': [[1, 'one']], 'w2-map': [[1, 'one']], metrics: true, exitCodes: [0, 0] });
    const readme = run(process.execPath, ['dist/readme-example.js'], project, 30_000);
    expect(readme).toContain('worker-1 is running');
    // The `fdn` command comes with @fdn/cli, on the project's PATH as npm links it.
    const help = run(join(project, 'node_modules/.bin/fdn'), ['--help'], project, 30_000);
    for (const command of ['start', 'nodes', 'ps', 'tree', 'kill', 'topology', 'channels', 'ecosystems']) expect(help).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
  }, 240_000); // packing six packages, an npm install and a strict compile: ~20 s alone, more under the full suite's load
});
