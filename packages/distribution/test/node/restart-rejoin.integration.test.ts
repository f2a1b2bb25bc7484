// A node SIGKILLed and started again while another streams to it rejoins at once. Regression: the
// streaming node kept dialling the dead node's old address, and refused the new incarnation's hello
// as a "crossing" dial, so the new node waited for a join retry (5.6 s in one run of five).

import { afterEach, describe, expect, it } from 'vitest';
import { startNode } from '../../src/index.ts';
import type { Node } from '../../src/index.ts';
import { killAll, spawnChildNode } from '../process-node.ts';
import { until } from '../helpers.ts';

const SECRET = 'restart-rejoin-secret';
const channels = { orders: { reliability: 'at_least_once' as const } };
let local: Node | null = null;

afterEach(async () => {
  await killAll();
  await local?.stop();
  local = null;
});

describe('restart under traffic', () => {
  it('five SIGKILL-and-restart rounds while a node streams to the restarted one: each rejoins within a second', async () => {
    const a = await startNode({ name: 'a', secret: SECRET, channels });
    local = a;
    const options = { name: 'b', secret: SECRET, channels, seeds: [a.addresses[0] as string] };
    let b = await spawnChildNode(options);
    await until(() => a.nodes().includes('b'), 'b up');
    const rejoins: number[] = [];
    let sent = 0;
    const flood = setInterval(() => {
      for (let i = 0; i < 100; i++) a.send({ name: 'sink', node: 'b' }, sent++, { channel: 'orders' });
    }, 2);
    try {
      for (let round = 0; round < 5; round++) {
        await new Promise((r) => setTimeout(r, 100));
        await b.kill();
        b = await spawnChildNode(options);
        const ready = Date.now();
        await until(() => a.nodes().includes('b'), `b back (round ${String(round)})`, 10_000);
        rejoins.push(Date.now() - ready);
      }
    } finally {
      clearInterval(flood);
    }
    expect(Math.max(...rejoins), `rejoin times ${rejoins.join(', ')} ms`).toBeLessThan(1_000);
  }, 60_000);
});
