// Nodes in their own OS processes (fixtures/cluster-node.ts), configured by environment, talked to
// over IPC. Every wait is bounded; `killAll` ends every child a test started.

import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const FIXTURES = {
  cluster: fileURLToPath(new URL('../fixtures/cluster-node.ts', import.meta.url)),
  rolling: fileURLToPath(new URL('../fixtures/rolling-node.ts', import.meta.url)),
};
const children = new Set<ChildProcess>();

export interface NodeProcess {
  name: string;
  address: string;
  call<T>(cmd: string, timeoutMs?: number): Promise<T>;
  child: ChildProcess;
  /** Other messages the process sent (`{ event, … }`). */
  events: { event: string; [k: string]: unknown }[];
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/** A TCP port free on 127.0.0.1 now (for records that must name a node's port before it starts). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  return port;
}

export async function startNodeProcess(name: string, env: Record<string, string>, timeoutMs = 20_000, fixture: keyof typeof FIXTURES = 'cluster'): Promise<NodeProcess> {
  const child = fork(FIXTURES[fixture], [], { env: { ...process.env, FDN_NAME: name, ...env }, execArgv: ['--conditions=@fdn/source', '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const pending = new Map<number, (v: unknown) => void>();
  const events: NodeProcess['events'] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { resolve(code); }));
  let next = 1;
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`${name} did not start within ${String(timeoutMs)} ms`)); }, timeoutMs);
    child.on('message', (m: { event?: string; address?: string; id?: number; result?: unknown }) => {
      if (m.event === 'ready') {
        clearTimeout(timer);
        resolve(m.address as string);
      } else if (m.id !== undefined) {
        pending.get(m.id)?.(m.result);
        pending.delete(m.id);
      } else if (m.event !== undefined) events.push(m as NodeProcess['events'][number]);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${String(code)}) before it was ready`));
    });
  });
  return {
    name,
    address,
    child,
    events,
    exited,
    call: <T>(cmd: string, callTimeoutMs = 5_000) =>
      new Promise<T>((resolve, reject) => {
        const id = next++;
        const timer = setTimeout(() => { reject(new Error(`${name}: no answer to '${cmd}'`)); }, callTimeoutMs);
        pending.set(id, (v) => {
          clearTimeout(timer);
          resolve(v as T);
        });
        child.send({ id, cmd });
      }),
  };
}

export async function killAll(): Promise<void> {
  await Promise.all(
    [...children].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) { resolve(); return; }
          c.once('exit', () => { resolve(); });
          c.kill('SIGKILL');
        }),
    ),
  );
}
