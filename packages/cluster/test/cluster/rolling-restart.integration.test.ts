// A rolling restart as Kubernetes does one (scenarios/rolling-restart.ts): five worker nodes in
// their own OS processes, each in turn sent SIGTERM and started again with a new incarnation and
// a new application version, under at-least-once streams and an ecosystem job.

import { describe, expect, it } from 'vitest';
import { rollingRestart } from '../scenarios/rolling-restart.ts';

describe('rolling restart', () => {
  it('five nodes restarted in turn under at-least-once traffic and a running ecosystem: nothing lost or doubled, ten workers kept, the job completes', async () => {
    const r = await rollingRestart({ workers: 10, items: 6_000 });
    for (const restart of r.restarts) {
      expect(restart.exitCode, `${restart.node} exits 0 after SIGTERM`).toBe(0);
      // Its slots were handed off before it went: ten workers, none on it.
      expect(restart.workersAfter, `workers after ${restart.node} stopped`).toBe(10);
      expect(restart.onStoppedNode).toBe(0);
      expect(restart.handedTo.length).toBeGreaterThan(0);
      // To the newest version, once there is one.
      if (restart.upgradedAtTheTime.length > 0) for (const to of restart.handedTo) expect(restart.upgradedAtTheTime, `${restart.node}'s slot went to ${to}`).toContain(to);
    }
    expect({ lost: r.lost, doubled: r.doubled, reordered: r.reordered }).toEqual({ lost: 0, doubled: 0, reordered: 0 });
    expect(r.streams).toBe(10); // five nodes, two incarnations each
    expect(r.itemsAtLastRestart, 'the job was still running when the last node restarted').toBeLessThan(6_000);
    expect(r.itemsDone).toBe(6_000);
    expect(r.respawns).toBe(0);
    expect(r.workersAtEnd).toBe(10);
  }, 180_000);
});
