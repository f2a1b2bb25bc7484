// A cluster of OS processes started with `fdn start` (the test application in each), and `fdn`
// runs against it: shared by the command's tests and the observer's browser test.

import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../src/bin/fdn.ts', import.meta.url));
const APP = fileURLToPath(new URL('../fixtures/app.ts', import.meta.url));
const NODE_ARGS = ['--conditions=@fdn/source', '--import', 'tsx'];

/** What one `fdn` run ended with. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Starts `fdn …args` and resolves once its stdout matches `ready` (its first group returned), within 30 s. */
function startUntil(args: string[], env: Record<string, string>, ready: RegExp, what: string): Promise<{ child: ChildProcess; match: string }> {
  const child = spawn(process.execPath, [...NODE_ARGS, BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not start within 30 s:\n${out}\n${err}`));
    }, 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const match = ready.exec(out)?.[1];
      if (match !== undefined) {
        clearTimeout(timer);
        resolve({ child, match });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${String(code)}:\n${out}\n${err}`));
    });
  });
}

/** A cluster started by `fdn start`, with `fdn` runs attached to its first node. */
export class FdnCluster {
  readonly secret = 'fdn-command-test-secret';
  readonly running = new Map<string, ChildProcess>();
  contact = '';
  readonly #dir = mkdtempSync(join(tmpdir(), 'fdn-cli-'));
  readonly #config = join(this.#dir, 'fdn.json');

  constructor() {
    writeFileSync(this.#config, JSON.stringify({ secret: this.secret, listen: { host: '127.0.0.1', port: 0 } }));
  }

  /** Starts n1, then the other `count - 1` through it, and waits until every node sees all the others (30 s at most). */
  async start(count: number): Promise<void> {
    const names = Array.from({ length: count }, (_, i) => `n${String(i + 1)}`);
    this.contact = await this.#startNode(names[0] as string, []);
    await Promise.all(names.slice(1).map((n) => this.#startNode(n, [this.contact])));
    const deadline = Date.now() + 30_000;
    for (;;) {
      const run = await this.fdn(['nodes', '--json']);
      const answers = run.code === 0 ? (JSON.parse(run.stdout) as { value?: { nodes: string[] } }[]) : [];
      if (answers.length === count && answers.every((a) => a.value?.nodes.length === count - 1)) return;
      if (Date.now() > deadline) throw new Error(`the cluster did not form within 30 s: ${run.stdout}${run.stderr}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  async #startNode(name: string, seeds: string[]): Promise<string> {
    const { child, match } = await startUntil(['start', '--config', this.#config, '--name', name, '--app', APP], { FDN_SEEDS: seeds.join(','), FDN_SECRET: '', FDN_LOG_LEVEL: 'error' }, /listening on (ws:\/\/127\.0\.0\.1:\d+)/, name);
    this.running.set(name, child);
    return match;
  }

  /** The environment of an `fdn` run attached to the cluster. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return { FDN_CONTACT: this.contact, FDN_SECRET: this.secret, FDN_SECRET_FILE: '', FDN_SEEDS: '', ...extra };
  }

  /** Runs `fdn …args` to its end (60 s at most). */
  fdn(args: string[], env: Record<string, string> = {}): Promise<Run> {
    return new Promise((resolve) => {
      execFile(process.execPath, [...NODE_ARGS, BIN, ...args], { env: { ...process.env, ...this.env(env) }, timeout: 60_000 }, (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
      });
    });
  }

  /** Starts `fdn observe --port 0`; resolves with the page's URL. */
  async observe(): Promise<string> {
    const { child, match } = await startUntil(['observe', '--port', '0'], this.env(), /at (http:\/\/127\.0\.0\.1:\d+\/observer)/, 'fdn observe');
    this.running.set('observe', child);
    return match;
  }

  /** SIGKILLs everything still running and removes the configuration. */
  stop(): void {
    for (const child of this.running.values()) child.kill('SIGKILL');
    this.running.clear();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
