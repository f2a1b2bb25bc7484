// Starts a node in its own OS process (fixtures/node-process.ts) and talks to it over IPC.
// Every wait is bounded; every child is killed when its test ends (killAll in afterEach).

import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { NodeOptions } from '../src/index.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/node-process.ts', import.meta.url));
const children = new Set<ChildProcess>();

export interface ChildNode {
  name: string;
  address: string;
  child: ChildProcess;
  call<T = unknown>(cmd: string, timeoutMs?: number, args?: unknown[]): Promise<T>;
  /** SIGKILL, then wait for the process to be gone. */
  kill(): Promise<void>;
  /** Resolves when the process is gone, with how it ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function spawnChildNode(options: Omit<NodeOptions, 'logger' | 'clock' | 'random'> & { name: string }, timeoutMs = 15_000, env: Record<string, string> = {}): Promise<ChildNode> {
  const child = fork(FIXTURE, [], {
    env: { ...process.env, ...env, FDN_NODE: JSON.stringify(options) },
    execArgv: ['--conditions=@fdn/source', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => {
    children.delete(child);
    resolve({ code, signal });
  }));
  const pending = new Map<number, (v: unknown) => void>();
  let next = 1;
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`node ${options.name} did not start within ${String(timeoutMs)} ms`));
    }, timeoutMs);
    child.on('message', (m: { event?: string; address?: string; id?: number; result?: unknown }) => {
      if (m.event === 'ready') {
        clearTimeout(timer);
        resolve(m.address as string);
      } else if (m.id !== undefined) {
        pending.get(m.id)?.(m.result);
        pending.delete(m.id);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`node ${options.name} exited before it was ready`));
    });
  });
  return {
    name: options.name,
    address,
    child,
    call: <T>(cmd: string, callTimeoutMs = 10_000, args?: unknown[]) =>
      new Promise<T>((resolve, reject) => {
        const id = next++;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`node ${options.name}: no answer to '${cmd}' within ${String(callTimeoutMs)} ms`));
        }, callTimeoutMs);
        pending.set(id, (v) => {
          clearTimeout(timer);
          resolve(v as T);
        });
        child.send({ id, cmd, args });
      }),
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    exited,
  };
}

/** Kills every child still running. */
export async function killAll(): Promise<void> {
  await Promise.all(
    [...children].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) {
            resolve();
            return;
          }
          c.once('exit', () => {
            resolve();
          });
          c.kill('SIGKILL');
        }),
    ),
  );
}
