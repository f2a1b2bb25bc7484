// Starts topology nodes in their own OS processes (see fixtures/node-process.ts) and talks to
// them over IPC. Every wait is bounded; every process is killed at the end of its test.

import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WsTransportOptions } from '../src/index.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/node-process.ts', import.meta.url));
const OVERLAY_FIXTURE = fileURLToPath(new URL('./fixtures/overlay-process.ts', import.meta.url));
const children = new Set<ChildProcess>();

export interface ProcessNode {
  name: string;
  address: string;
  incarnation: number;
  events: { event: string; peer?: string; kind?: string; closeCode?: number; incarnation?: number }[];
  call<T = unknown>(cmd: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  child: ChildProcess;
}

export function spawnNode(options: WsTransportOptions, timeoutMs = 15_000): Promise<ProcessNode> {
  return spawnFixture(FIXTURE, options, timeoutMs);
}

/** What an overlay node process runs (see fixtures/overlay-process.ts). */
export interface OverlayNodeConfig {
  overlay: 'fullMesh' | 'hyparview' | 'clientServer' | 'static';
  role?: 'server' | 'client';
  transport: WsTransportOptions;
}

/** Starts a node running a transport, an overlay and Plumtree in its own OS process. */
export function spawnOverlayNode(config: OverlayNodeConfig, timeoutMs = 15_000): Promise<ProcessNode> {
  return spawnFixture(OVERLAY_FIXTURE, config, timeoutMs, config.transport.name);
}

async function spawnFixture(fixture: string, config: object, timeoutMs: number, name = (config as { name: string }).name): Promise<ProcessNode> {
  const options = { name };
  const child = fork(fixture, [], {
    env: { ...process.env, FDN_NODE: JSON.stringify(config) },
    execArgv: ['--conditions=@fdn/source', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const events: ProcessNode['events'] = [];
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let nextId = 1;
  const ready = new Promise<{ address: string; incarnation: number }>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`node ${options.name} did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', (m: { event?: string; id?: number; result?: unknown; error?: { message: string; code?: string; closeCode?: number }; address?: string; incarnation?: number }) => {
      if (m.event === 'ready') {
        clearTimeout(timer);
        resolve({ address: m.address as string, incarnation: m.incarnation as number });
      } else if (m.event !== undefined) {
        events.push(m as ProcessNode['events'][number]);
      } else if (m.id !== undefined) {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (m.error !== undefined) p?.reject(Object.assign(new Error(m.error.message), m.error));
        else p?.resolve(m.result);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`node ${options.name} exited (${String(code ?? signal)}) before it was ready`));
      for (const p of pending.values()) p.reject(new Error(`node ${options.name} exited`));
      pending.clear();
    });
  });
  const { address, incarnation } = await ready;
  return {
    name: options.name,
    address,
    incarnation,
    events,
    child,
    call: <T,>(cmd: string, args: Record<string, unknown> = {}, callTimeoutMs = 15_000) =>
      new Promise<T>((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${options.name}: '${cmd}' got no answer within ${callTimeoutMs} ms`));
        }, callTimeoutMs);
        pending.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        child.send({ id, cmd, ...args });
      }),
    kill: (signal = 'SIGKILL') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve();
          return;
        }
        child.once('exit', () => {
          resolve();
        });
        child.kill(signal);
      }),
  };
}

/** Kills every node process still running (SIGKILL). */
export async function killAll(): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => {
            resolve();
          });
          child.kill('SIGKILL');
        }),
    ),
  );
}

/** Waits until `predicate` holds, polling; bounded. */
export async function eventually(predicate: () => boolean | Promise<boolean>, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
