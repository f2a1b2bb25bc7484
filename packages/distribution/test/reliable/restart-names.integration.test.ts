// At-least-once messages addressed to a name survive a restart of the node that holds it: what the
// old incarnation did not acknowledge goes to the new one, in order (a pid names one incarnation,
// so what was addressed to a pid is dropped). Regression: they were discarded when the new
// incarnation's connection came up.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startNode } from '../../src/index.ts';
import type { Node } from '../../src/index.ts';
import { killAll, spawnChildNode } from '../process-node.ts';
import { until } from '../helpers.ts';

const SECRET = 'restart-names-secret';
const channels = { orders: { reliability: 'at_least_once' as const } };
let local: Node | null = null;

afterEach(async () => {
  await killAll();
  await local?.stop();
  local = null;
});

const numbersIn = (file: string): number[] => {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map(Number);
  } catch {
    return [];
  }
};

describe('a node restarts while messages to a name are in flight', () => {
  it('every message reaches the old or the new incarnation; the new one gets its share in order, once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fdn-restart-'));
    const a = await startNode({ name: 'a', secret: SECRET, channels });
    local = a;
    const options = { name: 'b', secret: SECRET, channels, seeds: [a.addresses[0] as string] };
    const first = await spawnChildNode(options, 15_000, { FDN_SINK_LOG: join(dir, 'first') });
    await until(() => a.nodes().includes('b'), 'b connected');
    const N = 6_000;
    let sent = 0;
    let restarted = false;
    const pump = async (): Promise<void> => {
      while (sent < N) {
        for (let i = 0; i < 100 && sent < N; i++) a.send({ name: 'sink', node: 'b' }, sent++, { channel: 'orders' });
        if (!restarted && sent >= N / 3) {
          restarted = true;
          await first.kill();
          await spawnChildNode(options, 15_000, { FDN_SINK_LOG: join(dir, 'second') });
        }
        await new Promise((r) => setTimeout(r, 2));
      }
    };
    await pump();
    await until(() => a.unacknowledged('b') === 0 && numbersIn(join(dir, 'second')).at(-1) === N - 1, 'everything acknowledged by the new b', 20_000);
    const before = numbersIn(join(dir, 'first'));
    const after = numbersIn(join(dir, 'second'));
    const seen = new Set([...before, ...after]);
    const lost = Array.from({ length: N }, (_, i) => i).filter((i) => !seen.has(i));
    expect(lost).toEqual([]);
    // The new incarnation: in order, each once, from where the old one stopped acknowledging.
    for (let i = 1; i < after.length; i++) expect(after[i], `position ${String(i)}`).toBe((after[i - 1] as number) + 1);
    expect(after.length).toBeGreaterThan(N / 2);
    // At most what was in flight and unacknowledged when the old one died came twice.
    const twice = after.filter((n) => before.includes(n)).length;
    expect(twice).toBeLessThan(2_000);
  }, 60_000);
});
