// Backpressure from the mailboxes to the sockets: while the runtime has more work than a slice,
// a channel that delivers stops being read until the next slice; a fast sender then waits on its
// channel's backpressure instead of filling the receiver's heap.

import { describe, expect, it } from 'vitest';
import type { Connection } from '@fdn/topology';
import { startNode } from '../../src/index.ts';
import { InboundGate } from '../../src/node/inbound-gate.ts';
import { stoppedAfterEach, until } from '../helpers.ts';

function fakeConnection(): Connection & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    pause: (channel: string) => log.push(`pause ${channel}`),
    resume: (channel: string) => log.push(`resume ${channel}`),
  } as unknown as Connection & { log: string[] };
}

describe('InboundGate', () => {
  it('pauses a (connection, channel) once while overloaded, resumes every paused one when the next slice starts', () => {
    let overloaded = false;
    const slices: (() => void)[] = [];
    const connections = new Map([['a', fakeConnection()], ['b', fakeConnection()]]);
    const gate = new InboundGate({
      endpoint: {
        get overloaded() {
          return overloaded;
        },
        onNextSlice: (fn) => slices.push(fn),
      },
      connection: (node) => connections.get(node),
    });
    gate.afterMessage('a', 'default');
    expect(connections.get('a')?.log).toEqual([]);
    overloaded = true;
    gate.afterMessage('a', 'default');
    gate.afterMessage('a', 'default');
    gate.afterMessage('a', 'bulk');
    gate.afterMessage('b', 'default');
    gate.afterMessage('gone', 'default');
    expect(connections.get('a')?.log).toEqual(['pause default', 'pause bulk']);
    expect(connections.get('b')?.log).toEqual(['pause default']);
    expect(slices).toHaveLength(1);
    expect(gate.pauses).toBe(3);
    // The connection to `a` is replaced before the slice starts: the paused one is the one resumed.
    const old = connections.get('a');
    connections.set('a', fakeConnection());
    (slices.shift() as () => void)();
    expect(old?.log).toEqual(['pause default', 'pause bulk', 'resume default', 'resume bulk']);
    expect(connections.get('b')?.log).toEqual(['pause default', 'resume default']);
    expect(connections.get('a')?.log).toEqual([]);
    // A new slice, still overloaded: pausing starts over.
    gate.afterMessage('b', 'default');
    expect(connections.get('b')?.log.at(-1)).toBe('pause default');
    expect(slices).toHaveLength(1);
  });
});

describe('a receiver whose process falls behind', () => {
  const started = stoppedAfterEach();

  it('keeps its mailbox bounded: the sender waits on backpressure, and every message arrives in order', async () => {
    const secret = 'inbound-gate-secret';
    const receiver = await startNode({ name: 'slow-receiver', secret });
    started.push(receiver);
    const sender = await startNode({ name: 'fast-sender', secret, seeds: [receiver.addresses[0] as string] });
    started.push(sender);
    await until(() => sender.nodes().includes('slow-receiver'), 'connected');
    const total = 150_000;
    let received = 0;
    let inOrder = true;
    let deepest = 0;
    const sink = receiver.runtime.spawn(async (ctx) => {
      for (;;) {
        const m = (await ctx.receive()) as number;
        if (m !== received) inOrder = false;
        received++;
        // Some work per message: slower than the socket fills.
        let x = 0;
        for (let k = 0; k < 200; k++) x += Math.sqrt(k + m);
        if (x < 0) throw new Error('unreachable');
        if ((received & 1023) === 0) deepest = Math.max(deepest, receiver.runtime.processInfo(sink)?.messageQueueLen ?? 0);
      }
    });
    receiver.runtime.register('sink', sink);
    await sender.runtime.run(async () => {
      for (let i = 0; i < total; i++) {
        const status = sender.send({ name: 'sink', node: 'slow-receiver' }, i);
        // As fast as the channel takes them: a pause only when it reports backpressure.
        if (status === 'backpressure') await sender.whenWritable('slow-receiver');
      }
    });
    await until(() => received === total, 'every message received', 60_000);
    expect(inOrder).toBe(true);
    expect(receiver.inboundPauses).toBeGreaterThan(0);
    // Without the gate the socket is read as fast as it fills and most of the stream waits in the mailbox.
    expect(deepest).toBeLessThan(total / 3);
  }, 90_000);
});
