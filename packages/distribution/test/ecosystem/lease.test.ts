// The majority lease behind coordinator failover: one leader among the candidates, a new one
// after the leader's node goes, and under a partition the minority side steps down before the
// majority side elects — never two leaders at once (checked every 20 ms throughout).

import { describe, expect, it } from 'vitest';
import { startNode } from '../../src/index.ts';
import type { Node } from '../../src/index.ts';
import { startLease } from '../../src/ecosystem/lease.ts';
import type { LeaseEvent } from '../../src/ecosystem/lease.ts';
import { stoppedAfterEach, until } from '../helpers.ts';

const SECRET = 'lease-test-secret';
const started = stoppedAfterEach();
// Short leases for a fast test, with a margin for a loaded CI machine's event-loop stalls.
const OPTIONS = { leaseMs: 900, renewMs: 100, marginMs: 350 };

async function candidates(names: string[]): Promise<{ nodes: Node[]; leaders: Map<string, number | null>; epochs: number[] }> {
  const nodes: Node[] = [];
  for (const name of names) {
    const n = await startNode({ name, secret: SECRET, seeds: nodes.length === 0 ? [] : [nodes[0]?.addresses[0] as string] });
    started.push(n);
    nodes.push(n);
  }
  await until(() => nodes.every((n) => n.nodes().length === names.length - 1), 'all connected');
  const leaders = new Map<string, number | null>();
  const epochs: number[] = [];
  for (const n of nodes) {
    leaders.set(n.name, null);
    const owner = n.runtime.spawn(async (ctx) => {
      for (;;) {
        const e = (await ctx.receive()) as LeaseEvent;
        leaders.set(n.name, e.type === 'fdn.lease.leader' ? e.epoch : null);
        if (e.type === 'fdn.lease.leader') epochs.push(e.epoch);
      }
    });
    startLease(n, 'eco', names, owner, OPTIONS);
  }
  return { nodes, leaders, epochs };
}

const current = (leaders: Map<string, number | null>): string[] => [...leaders].filter(([, e]) => e !== null).map(([n]) => n);

/** Samples the leaders every 20 ms while `during` runs; fails if two ever lead at once. */
async function neverTwo<T>(leaders: Map<string, number | null>, during: () => Promise<T>): Promise<T> {
  let worst = 0;
  const timer = setInterval(() => {
    worst = Math.max(worst, current(leaders).length);
  }, 20);
  try {
    return await during();
  } finally {
    clearInterval(timer);
    expect(worst).toBeLessThanOrEqual(1);
  }
}

describe('majority lease', () => {
  it('elects one leader; when its node stops, another takes over with a higher epoch', async () => {
    const { nodes, leaders, epochs } = await candidates(['l1', 'l2', 'l3']);
    await neverTwo(leaders, async () => {
      await until(() => current(leaders).length === 1, 'a leader');
      const first = current(leaders)[0] as string;
      const firstEpoch = leaders.get(first) as number;
      // Stable: still the same leader a few leases later.
      await new Promise((r) => setTimeout(r, 1_500));
      expect(current(leaders)).toEqual([first]);
      const victim = nodes.find((n) => n.name === first) as Node;
      started.splice(started.indexOf(victim), 1);
      leaders.delete(first);
      await victim.stop();
      await until(() => current(leaders).length === 1, 'a new leader', 5_000);
      expect(leaders.get(current(leaders)[0] as string)).toBeGreaterThan(firstEpoch);
    });
    expect(epochs.length).toBeGreaterThanOrEqual(2);
  });

  it('a partition: the leader cut off with a minority steps down; the majority elects after it; healed, still one', async () => {
    const { nodes, leaders } = await candidates(['p1', 'p2', 'p3', 'p4', 'p5']);
    await neverTwo(leaders, async () => {
      await until(() => current(leaders).length === 1, 'a leader');
      const old = current(leaders)[0] as string;
      // Cut the leader and one other node off from the three others.
      const minority = [old, nodes.find((n) => n.name !== old)?.name as string];
      const majority = nodes.map((n) => n.name).filter((n) => !minority.includes(n));
      for (const n of nodes) n.blockNodes(minority.includes(n.name) ? majority : minority);
      await until(() => leaders.get(old) === null, 'the old leader stepped down', 3_000);
      await until(() => current(leaders).length === 1 && majority.includes(current(leaders)[0] as string), 'a leader on the majority side', 5_000);
      for (const n of nodes) n.unblockNodes();
      // Healed: one leader (the same, unless a stall of the loaded test process outlasted its
      // margin and it stepped down: then a new one, never two — `neverTwo` watches throughout).
      await new Promise((r) => setTimeout(r, 1_000));
      await until(() => current(leaders).length === 1, 'one leader after healing', 5_000);
    });
  });
});
