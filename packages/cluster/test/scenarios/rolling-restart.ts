// The rolling-restart scenario, shared by its integration test and `npm run bench -- cluster`:
// five worker nodes in their own OS processes (fixtures/rolling-node.ts), each in turn sent SIGTERM
// and started again (a new incarnation, a new application version), while an ecosystem runs a job
// on them and every node streams numbered messages over an at-least-once channel to the driver.
// The driver (this process) is a sixth node holding the coordinator and the collector. Run as a
// script it prints its result as JSON.

import { fileURLToPath } from 'node:url';
import { GenServer } from '@fdn/actors';
import type { GenServerBehaviour, Pid } from '@fdn/actors';
import { memoryLogger } from '@fdn/core';
import { ecosystemInfo, spawnEcosystem, startNode } from '@fdn/distribution';
import type { WorkersChanged } from '@fdn/distribution';
import { freePort, killAll, startNodeProcess } from '../support/processes.ts';
import type { NodeProcess } from '../support/processes.ts';

const SECRET = 'rolling-restart-secret';

export interface RollingOptions {
  workers: number;
  items: number;
}

export interface RollingResult {
  /** Each restarted node: its exit code (null: it did not exit in 20 s), and where its slots went. */
  restarts: { node: string; exitCode: number | null; workersAfter: number; onStoppedNode: number; handedTo: string[]; upgradedAtTheTime: string[] }[];
  /** Numbers of the stopped incarnations' streams that never arrived, and numbers that arrived twice (all streams). */
  lost: number;
  doubled: number;
  /** Stream numbers that arrived out of order. */
  reordered: number;
  streams: number;
  messages: number;
  itemsDone: number;
  /** Items done when the last node was sent SIGTERM (fewer than all: the job ran through the restarts). */
  itemsAtLastRestart: number;
  /** Results of an item that came again (it was given out again after its worker was handed off). */
  repeatedItems: number;
  respawns: number;
  workersAtEnd: number;
  ms: number;
}

interface JobState {
  queue: number[];
  busy: Map<string, number>;
  workers: Map<string, Pid>;
  done: Set<number>;
  repeated: number;
}

/** Gives each worker one item at a time; an item whose worker went away goes back on the queue. */
function job(state: JobState): GenServerBehaviour<JobState> {
  return {
    init: () => ({ type: 'ok', state }),
    handleInfo: (m, s, ctx) => {
      const msg = m as Partial<WorkersChanged> & { done?: number; worker?: Pid };
      if (msg.type === 'ecosystem.workers' && msg.workers !== undefined) {
        const now = new Map(msg.workers.map((w) => [w.pid.toString(), w.pid]));
        for (const [key, item] of s.busy) {
          if (now.has(key)) continue;
          s.busy.delete(key);
          if (!s.done.has(item)) s.queue.unshift(item);
        }
        s.workers = now;
      } else if (msg.done !== undefined && msg.worker !== undefined) {
        const key = msg.worker.toString();
        if (s.busy.get(key) === msg.done) s.busy.delete(key);
        if (s.done.has(msg.done)) s.repeated++;
        else s.done.add(msg.done);
      }
      for (const [key, pid] of s.workers) {
        if (s.busy.has(key)) continue;
        const item = s.queue.shift();
        if (item === undefined) break;
        s.busy.set(key, item);
        GenServer.cast(ctx, pid, { item, coordinator: ctx.self });
      }
      return { type: 'noreply', state: s };
    },
  };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${String(timeoutMs)} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function rollingRestart(options: RollingOptions): Promise<RollingResult> {
  const started = Date.now();
  const ports = await Promise.all([0, 1, 2, 3, 4, 5].map(() => freePort()));
  const hosts = ports.map((p) => `ws://127.0.0.1:${String(p)}`).join(',');
  const driver = await startNode({ name: 'driver', secret: SECRET, listen: { host: '127.0.0.1', port: ports[0] as number }, channels: { alo: { reliability: 'at_least_once' } }, logger: memoryLogger() });
  try {
    const streams = new Map<string, number[]>();
    driver.runtime.spawn(
      async (ctx) => {
        for (;;) {
          const m = (await ctx.receive()) as { from: string; incarnation: number; seq: number };
          const key = `${m.from}/${String(m.incarnation)}`;
          const list = streams.get(key);
          if (list === undefined) streams.set(key, [m.seq]);
          else list.push(m.seq);
        }
      },
      { name: 'collector' },
    );
    const env = (i: number, version: string): Record<string, string> => ({ FDN_SECRET: SECRET, FDN_LISTEN: `127.0.0.1:${String(ports[i])}`, FDN_APP_VERSION: version, FDN_DISCOVERY: 'static', FDN_DISCOVERY_HOSTS: hosts });
    const names = [1, 2, 3, 4, 5].map((i) => `w${String(i)}`);
    const nodes: NodeProcess[] = await Promise.all(names.map((name, i) => startNodeProcess(name, env(i + 1, '1.0.0'), 30_000, 'rolling')));
    await until('the driver connected to the five', () => driver.nodes().length === 5, 20_000);

    const state: JobState = { queue: Array.from({ length: options.items }, (_, i) => i), busy: new Map(), workers: new Map(), done: new Set(), repeated: 0 };
    const eco = await spawnEcosystem(driver, { coordinator: job(state), workers: { behaviour: 'job-worker', count: options.workers }, distribution: { policy: 'clusterWide', excludeSelf: true } });
    await until('every worker', () => state.workers.size === options.workers, 10_000);

    const lastSent = new Map<string, number>();
    const upgraded: string[] = [];
    const restarts: RollingResult['restarts'] = [];
    let itemsAtLastRestart = 0;
    for (const [i, name] of names.entries()) {
      const old = nodes[i] as NodeProcess;
      itemsAtLastRestart = state.done.size;
      old.child.kill('SIGTERM');
      const exitCode = await Promise.race([old.exited, new Promise<null>((r) => setTimeout(() => { r(null); }, 20_000))]);
      const last = old.events.find((e) => e.event === 'last') as { seq: number; incarnation: number } | undefined;
      if (last !== undefined) lastSent.set(`${name}/${String(last.incarnation)}`, last.seq);
      const info = await ecosystemInfo(driver, eco);
      restarts.push({
        node: name,
        exitCode,
        workersAfter: Object.values(info.workersPerNode).reduce((a, b) => a + b, 0),
        onStoppedNode: info.workersPerNode[name] ?? 0,
        handedTo: info.history.filter((h) => h.reason === `drained from ${name}`).map((h) => h.node),
        upgradedAtTheTime: [...upgraded],
      });
      nodes[i] = await startNodeProcess(name, env(i + 1, '2.0.0'), 30_000, 'rolling');
      upgraded.push(name);
      await until(`${name} back`, () => driver.nodes().includes(name), 20_000);
    }
    await until('the job completes', () => state.done.size === options.items, 60_000);
    // Let the streams of the running incarnations settle before counting.
    await new Promise((r) => setTimeout(r, 500));

    let lost = 0;
    let doubled = 0;
    let reordered = 0;
    let messages = 0;
    for (const [key, last] of lastSent) {
      const got = new Set(streams.get(key) ?? []);
      for (let k = 1; k <= last; k++) if (!got.has(k)) lost++;
    }
    for (const seqs of streams.values()) {
      messages += seqs.length;
      doubled += seqs.length - new Set(seqs).size;
      for (let k = 1; k < seqs.length; k++) if ((seqs[k] as number) < (seqs[k - 1] as number)) reordered++;
    }
    const info = await ecosystemInfo(driver, eco);
    return {
      restarts,
      lost,
      doubled,
      reordered,
      streams: streams.size,
      messages,
      itemsDone: state.done.size,
      itemsAtLastRestart,
      repeatedItems: state.repeated,
      respawns: info.respawns,
      workersAtEnd: Object.values(info.workersPerNode).reduce((a, b) => a + b, 0),
      ms: Date.now() - started,
    };
  } finally {
    await killAll();
    await driver.stop({ timeoutMs: 1_000 });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const options = JSON.parse(process.argv[2] ?? '{"workers":10,"items":6000}') as RollingOptions;
  console.log(JSON.stringify(await rollingRestart(options)));
}
