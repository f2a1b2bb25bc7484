// A rolling restart as Kubernetes does one: five worker nodes in their own OS processes, each in
// turn sent SIGTERM and started again (a new incarnation, a new application version), while an
// ecosystem runs a job on them and every node streams numbered messages over an at-least-once
// channel. The driver (this process) is a sixth node holding the coordinator and the collector.
// Nothing of the stream may be lost or doubled, the ecosystem keeps its ten workers, workers move
// to the newest version, every stop exits 0, and the job completes.

import { GenServer } from '@fdn/actors';
import type { GenServerBehaviour, Pid } from '@fdn/actors';
import { memoryLogger } from '@fdn/core';
import { ecosystemInfo, spawnEcosystem, startNode } from '@fdn/distribution';
import type { Node, WorkersChanged } from '@fdn/distribution';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, killAll, startNodeProcess } from '../support/processes.ts';
import type { NodeProcess } from '../support/processes.ts';

const SECRET = 'rolling-restart-secret';
const WORKERS = 10;
const ITEMS = 3_000;

let driver: Node | null = null;
afterEach(async () => {
  await killAll();
  await driver?.stop({ timeoutMs: 1_000 });
  driver = null;
});

interface JobState {
  queue: number[];
  /** Item in flight per worker (by pid). */
  busy: Map<string, number>;
  workers: Map<string, Pid>;
  done: Set<number>;
  /** Results for an item that was done already (the item was given out again after its worker moved). */
  repeated: number;
  counts: number[];
}

/** Gives each worker one item at a time; an item whose worker went away goes back on the queue. */
function job(state: JobState): GenServerBehaviour<JobState> {
  const dispatch = (s: JobState, self: Pid, send: (to: Pid, m: unknown) => void): void => {
    for (const [key, pid] of s.workers) {
      if (s.busy.has(key)) continue;
      const item = s.queue.shift();
      if (item === undefined) return;
      s.busy.set(key, item);
      send(pid, { $gen_cast: true, request: { item, coordinator: self } });
    }
  };
  return {
    init: () => ({ type: 'ok', state }),
    handleInfo: (m, s, ctx) => {
      const change = m as Partial<WorkersChanged> & { done?: number; worker?: Pid };
      if (change.type === 'ecosystem.workers' && change.workers !== undefined) {
        const now = new Map(change.workers.map((w) => [w.pid.toString(), w.pid]));
        for (const [key, item] of s.busy) {
          if (now.has(key)) continue;
          s.busy.delete(key);
          if (!s.done.has(item)) s.queue.unshift(item);
        }
        s.workers = now;
        s.counts.push(now.size);
      } else if (change.done !== undefined && change.worker !== undefined) {
        const key = change.worker.toString();
        if (s.busy.get(key) === change.done) s.busy.delete(key);
        if (s.done.has(change.done)) s.repeated++;
        else s.done.add(change.done);
      }
      dispatch(s, ctx.self, (to, msg) => { GenServer.cast(ctx, to, (msg as { request: unknown }).request); });
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

describe('rolling restart', () => {
  it('five nodes restarted in turn under at-least-once traffic and a running ecosystem: nothing lost or doubled, ten workers kept, the job completes', async () => {
    const ports = await Promise.all([0, 1, 2, 3, 4, 5].map(() => freePort()));
    const hosts = ports.map((p) => `ws://127.0.0.1:${String(p)}`).join(',');
    driver = await startNode({ name: 'driver', secret: SECRET, listen: { host: '127.0.0.1', port: ports[0] as number }, channels: { alo: { reliability: 'at_least_once' } }, logger: memoryLogger() });
    // The collector: every (node, incarnation) stream, in arrival order.
    const streams = new Map<string, number[]>();
    driver.runtime.spawn(
      async (ctx) => {
        for (;;) {
          const m = (await ctx.receive()) as { from: string; incarnation: number; seq: number };
          const key = `${m.from}/${String(m.incarnation)}`;
          streams.set(key, [...(streams.get(key) ?? []), m.seq]);
        }
      },
      { name: 'collector' },
    );
    const env = (i: number, version: string): Record<string, string> => ({ FDN_SECRET: SECRET, FDN_LISTEN: `127.0.0.1:${String(ports[i])}`, FDN_APP_VERSION: version, FDN_DISCOVERY: 'static', FDN_DISCOVERY_HOSTS: hosts });
    const names = [1, 2, 3, 4, 5].map((i) => `w${String(i)}`);
    const nodes: NodeProcess[] = await Promise.all(names.map((name, i) => startNodeProcess(name, env(i + 1, '1.0.0'), 20_000, 'rolling')));
    await until('the driver connected to the five', () => driver?.nodes().length === 5, 20_000);

    const state: JobState = { queue: Array.from({ length: ITEMS }, (_, i) => i), busy: new Map(), workers: new Map(), done: new Set(), repeated: 0, counts: [] };
    const eco = await spawnEcosystem(driver, { coordinator: job(state), workers: { behaviour: 'job-worker', count: WORKERS }, distribution: { policy: 'clusterWide', excludeSelf: true } });
    await until('ten workers', () => state.workers.size === WORKERS, 10_000);

    const lastSent = new Map<string, number>();
    const upgraded = new Set<string>();
    for (const [i, name] of names.entries()) {
      const old = nodes[i] as NodeProcess;
      old.child.kill('SIGTERM');
      const code = await Promise.race([old.exited, new Promise<'hung'>((r) => setTimeout(() => { r('hung'); }, 20_000))]);
      expect(code, `${name} exits 0 after SIGTERM`).toBe(0);
      const last = old.events.find((e) => e.event === 'last') as { seq: number; incarnation: number } | undefined;
      expect(last, `${name} said what it sent last`).toBeDefined();
      lastSent.set(`${name}/${String(last?.incarnation)}`, last?.seq ?? -1);
      // Its slots were handed off before it went: ten workers, none on it.
      const info = await ecosystemInfo(driver, eco);
      expect(Object.values(info.workersPerNode).reduce((a, b) => a + b, 0)).toBe(WORKERS);
      expect(info.workersPerNode[name]).toBeUndefined();
      // Moved to the newest version once there is one.
      if (upgraded.size > 0) for (const h of info.history.filter((x) => x.reason === `drained from ${name}`)) expect(upgraded.has(h.node), `${name}'s slot went to ${h.node}, not an upgraded node`).toBe(true);
      nodes[i] = await startNodeProcess(name, env(i + 1, '2.0.0'), 20_000, 'rolling');
      upgraded.add(name);
      await until(`${name} back`, () => driver?.nodes().includes(name) === true, 20_000);
    }
    await until('the job completes', () => state.done.size === ITEMS, 60_000);

    // The stream: for every stopped incarnation, exactly 1..last, once each, in order.
    for (const [key, last] of lastSent) expect(streams.get(key), key).toEqual(Array.from({ length: last }, (_, k) => k + 1));
    // And no number twice, no gap, in the streams of the running incarnations.
    for (const [key, seqs] of streams) expect(seqs, key).toEqual(Array.from({ length: seqs.length }, (_, k) => k + 1));
    const info = await ecosystemInfo(driver, eco);
    expect(Object.values(info.workersPerNode).reduce((a, b) => a + b, 0)).toBe(WORKERS);
    expect(info.respawns).toBe(0);
    expect(state.counts.at(-1)).toBe(WORKERS);
    console.log(`rolling restart: ${String(ITEMS)} items done, ${String(state.repeated)} handed out again after a hand-off; streams ${[...streams].map(([k, v]) => `${k}:${String(v.length)}`).join(' ')}`);
  }, 180_000);
});
