// Every benchmark suite ends by itself: each one's --quick mode, run as `npm run bench` runs it
// (the built runner, --expose-gc), exits with code 0 and writes its results. A suite that leaves a
// timer, a socket or a worker behind hangs here instead of in someone's unattended run. The suites
// are the runner's own list (its usage message), so a new suite is covered without editing this.

import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runner = join(root, 'bench', 'dist', 'run.js');
const results = mkdtempSync(join(tmpdir(), 'fdn-bench-results-'));
/** A quick run takes 3-40 s here; a suite that has not exited after this long hangs. */
const LIMIT_MS = 150_000;
/** Suites run two at a time: most wait on timers and sockets more than they compute, and the whole set took two minutes one by one. */
const AT_ONCE = 2;
let running = 0;
const waiting: (() => void)[] = [];

async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= AT_ONCE) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runSuite(name: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--expose-gc', '--max-old-space-size=8192', runner, name, '--quick'],
      { cwd: root, encoding: 'utf8', timeout: LIMIT_MS, killSignal: 'SIGKILL', maxBuffer: 64 * 2 ** 20, env: { ...process.env, FDN_BENCH_RESULTS_DIR: results } },
      (error, stdout, stderr) => {
        const failed = error as (Error & { code?: number | string; signal?: NodeJS.Signals | null }) | null;
        resolve({ status: failed === null ? 0 : typeof failed.code === 'number' ? failed.code : null, signal: failed?.signal ?? null, stdout, stderr });
      },
    );
  });
}

function suites(): string[] {
  const usage = spawnSync(process.execPath, [runner], { encoding: 'utf8' });
  const line = usage.stderr.split('\n').find((l) => l.startsWith('suites: '));
  if (line === undefined) throw new Error(`the runner printed no list of suites:\n${usage.stderr}`);
  return line.slice('suites: '.length).split(', ');
}

describe.concurrent('benchmark suites (--quick)', () => {
  afterAll(() => {
    rmSync(results, { recursive: true, force: true });
  });

  const names = existsSync(runner) ? suites() : [];
  it('the runner is built and lists its suites', () => {
    expect(existsSync(runner), 'bench/dist/run.js (npm test builds it)').toBe(true);
    expect(names).toEqual(expect.arrayContaining(['local', 'hol', 'link', 'remote', 'sim', 'scale', 'switch', 'chaos', 'cluster']));
  });

  for (const name of names) {
    // The timeout counts the wait for a slot too: at most the whole list ahead of it.
    it(`${name} exits with code 0 by itself and writes its results`, { timeout: LIMIT_MS * 4 }, async ({ expect }) => {
      const run = await slot(() => runSuite(name));
      const tail = `${run.stdout.slice(-1_500)}\n${run.stderr.slice(-1_500)}`;
      expect(run.signal, `still running after ${String(LIMIT_MS / 1000)} s (a handle left open?)\n${tail}`).toBeNull();
      expect(run.status, tail).toBe(0);
      const written = JSON.parse(readFileSync(join(results, `${name}.json`), 'utf8')) as { suite: string; quick: boolean; metrics: Record<string, number> };
      expect(written.suite).toBe(name);
      expect(written.quick).toBe(true);
      expect(Object.keys(written.metrics).length).toBeGreaterThan(0);
    });
  }
});
