// The default partition key: a channel with several connections spreads (sender, receiver) pairs
// over them, and keeps each pair on one, so a pair's messages and its exit signal keep their order.

import { isExitMessage } from '@fdn/actors';
import type { Pid, ProcessContext } from '@fdn/actors';
import { describe, expect, it } from 'vitest';
import { startNode } from '../../src/index.ts';
import type { Node } from '../../src/index.ts';
import { stoppedAfterEach, until } from '../helpers.ts';

const SECRET = 'pair-partition-secret';
const started = stoppedAfterEach();

async function pair(): Promise<[Node, Node]> {
  const channels = { default: { parallelism: 4 }, data: { parallelism: 4 } };
  const a = await startNode({ name: 'pp-a', secret: SECRET, channels });
  const b = await startNode({ name: 'pp-b', secret: SECRET, channels, seeds: [a.addresses[0] as string] });
  started.push(a, b);
  await until(() => a.nodes().includes('pp-b') && b.nodes().includes('pp-a'), 'connected');
  return [a, b];
}

describe('default partition key: the (sender, receiver) pair', () => {
  it('eight pairs on a channel with four connections use more than one, and each pair keeps its order', async () => {
    const [a, b] = await pair();
    a.configureRouting([{ type: 'item', channel: 'data' }]);
    const received = new Map<string, number[]>();
    const receivers: Pid[] = [];
    for (let r = 0; r < 8; r++) {
      receivers.push(
        b.runtime.spawn(async (ctx) => {
          for (;;) {
            const m = (await ctx.receive()) as { type: 'item'; from: number; seq: number };
            const key = `${String(m.from)}→${String(r)}`;
            received.set(key, [...(received.get(key) ?? []), m.seq]);
          }
        }),
      );
    }
    const PER_PAIR = 500;
    for (let s = 0; s < 8; s++) {
      a.runtime.spawn((ctx: ProcessContext) => {
        for (let seq = 0; seq < PER_PAIR; seq++) ctx.send(receivers[s] as Pid, { type: 'item', from: s, seq });
        return Promise.resolve();
      });
    }
    await until(() => [...received.values()].reduce((n, l) => n + l.length, 0) === 8 * PER_PAIR, 'every message arrived');
    for (const seqs of received.values()) expect(seqs).toEqual(Array.from({ length: PER_PAIR }, (_, i) => i));
    // Without a key, every message goes to the channel's first connection: one open socket.
    expect(a.transport.connection('pp-b')?.metrics('data').sockets).toBeGreaterThan(1);
  });

  it('with parallel connections on default, a message sent before an exit still arrives before the EXIT', async () => {
    const [a, b] = await pair();
    for (let round = 0; round < 20; round++) {
      const got: unknown[] = [];
      const watcher = b.runtime.spawn(async (ctx) => {
        ctx.trapExit(true);
        for (;;) {
          const m = await ctx.receive();
          got.push(m);
          if (isExitMessage(m)) return;
        }
      });
      a.runtime.spawn((ctx) => {
        ctx.link(watcher);
        for (let i = 0; i < 50; i++) ctx.send(watcher, { i });
        ctx.exit('done');
        return Promise.resolve();
      });
      await until(() => got.some((m) => isExitMessage(m)), 'the EXIT arrived');
      const exitAt = got.findIndex((m) => isExitMessage(m));
      expect(exitAt, `round ${String(round)}`).toBe(50);
    }
  });
});
