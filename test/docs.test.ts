// The READMEs cannot drift from the code: every TypeScript block in them is type-checked against
// the packages (strict, as a user's project would be), the blocks marked runnable are run, and
// every option key of the node's schema is documented in the README's options table.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE_OPTION_KEYS } from '../packages/distribution/src/index.ts';
import { readmeBlocks } from './docs/readme-blocks.ts';
import type { ReadmeBlock } from './docs/readme-blocks.ts';

const root = join(import.meta.dirname, '..');
const readmes = [join(root, 'README.md'), ...['packages', 'examples'].flatMap((dir) => readdirSync(join(root, dir)).map((p) => join(root, dir, p, 'README.md')))].filter((f) => existsSync(f));
const blocks = readmes.flatMap((f) => readmeBlocks(f));
const where = (b: ReadmeBlock): string => `${relative(root, b.file)}:${String(b.line)}`;
const fileName = (b: ReadmeBlock): string => `${relative(root, b.file).replace(/[^A-Za-z0-9]+/g, '-')}-${String(b.line)}.ts`;

describe('README code', () => {
  it('finds the blocks (and every skipped one says why)', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(15);
    for (const b of blocks.filter((x) => x.skip !== null)) expect(b.skip, where(b)).not.toBe('');
  });

  it('every TypeScript block type-checks against the packages', () => {
    const dir = join(root, '.docs-check');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    const checked = blocks.filter((b) => b.skip === null);
    // Each block is a module of its own; the prelude declares what fragments take as given (a ctx, a node…).
    for (const b of checked) writeFileSync(join(dir, fileName(b)), `${b.code}\nexport {};\n`);
    writeFileSync(join(dir, 'prelude.d.ts'), PRELUDE);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../tsconfig.json', compilerOptions: { noEmit: true, noUnusedLocals: false, types: ['node'] }, include: ['*.ts'] }));
    let output = '';
    try {
      execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], { encoding: 'utf8', cwd: root, timeout: 120_000 });
    } catch (err) {
      output = String((err as { stdout?: string }).stdout ?? err);
    }
    // Point each error at its README line.
    const byFile = new Map(checked.map((b) => [fileName(b), b]));
    const errors = output
      .split('\n')
      .filter((l) => l.includes('error TS'))
      .map((l) => {
        const m = /^\.docs-check\/([^(]+)\((\d+),(\d+)\): (.*)$/.exec(l);
        const b = m === null ? undefined : byFile.get(m[1] as string);
        return b === undefined || m === null ? l : `${relative(root, b.file)}:${String(b.line + Number(m[2]))}: ${m[4] as string}`;
      });
    expect(errors).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  }, 180_000);

  it('the blocks marked runnable run and exit 0', () => {
    const runnable = blocks.filter((b) => b.runnable);
    expect(runnable.length).toBeGreaterThanOrEqual(1);
    const dir = join(root, '.docs-run');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    for (const b of runnable) {
      const file = join(dir, fileName(b));
      writeFileSync(file, b.code);
      const out = execFileSync(process.execPath, ['--conditions=@fdn/source', '--import', 'tsx', file], { encoding: 'utf8', cwd: root, timeout: 30_000, env: { ...process.env, FDN_SECRET: '' } });
      expect(out, where(b)).not.toBe(null);
    }
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('the README’s first TypeScript block is the runnable quick start', () => {
    const first = readmeBlocks(join(root, 'README.md'))[0];
    expect(first?.runnable).toBe(true);
  });

  it('every option key of the node schema is documented in the README’s options table', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('### Node options'));
    for (const key of NODE_OPTION_KEYS) expect(table, `option ${key}`).toMatch(new RegExp(`\\| \`${key}\``));
    for (const variable of ['FDN_NAME', 'FDN_SECRET', 'FDN_SECRET_FILE', 'FDN_LISTEN', 'FDN_SEEDS']) expect(table).toContain(variable);
  });
});

/** What README fragments take as given. */
const PRELUDE = `
import type { Pid, ProcessContext, Runtime, GenServerBehaviour, SupervisorSpec, AnyChildSpec } from '@fdn/actors';
import type { Node, EcosystemSpec } from '@fdn/distribution';
import type { Transport, PeerService } from '@fdn/topology';
declare global {
  /** A process context (inside a process body or a callback). */
  const ctx: ProcessContext;
  /** A runtime. */
  const rt: Runtime;
  /** A started node. */
  const node: Node;
  const pid: Pid;
  const secret: string;
  const bytes: Buffer;
  const bigPayload: Buffer;
  const body: (ctx: ProcessContext) => Promise<void>;
  const cache: GenServerBehaviour<unknown, undefined>;
  const poolSpec: SupervisorSpec;
  const spec: AnyChildSpec;
  const CounterBehaviour: GenServerBehaviour<number, number>;
  const Coordinator: GenServerBehaviour<unknown, unknown>;
  const options: unknown;
  const jobs: unknown[];
  const eco: Awaited<ReturnType<typeof import('@fdn/distribution').spawnEcosystem>>;
  const transport: Transport;
  const overlay: PeerService;
  const ecosystemSpec: EcosystemSpec;
}
export {};
`;
