// Channel priority (README: "higher-priority channels are written first by the sender"): the
// write scheduler flushes the outboxes ready in one turn high first, then normal, and low
// (bulk) ones only on a later turn of the event loop, one chunk at a time.

import { describe, expect, it } from 'vitest';
import { WriteScheduler } from '../src/channels/outbox.ts';
import type { Outbox } from '../src/channels/outbox.ts';
import type { Priority } from '../src/channels/config.ts';

function fakeOutbox(name: string, priority: Priority, log: string[], chunks = 1): Outbox {
  let left = chunks;
  return {
    scheduled: false,
    config: { priority },
    flush: () => {
      log.push(name);
      return --left > 0 ? 'more' : 'done';
    },
  } as unknown as Outbox;
}

describe('WriteScheduler (channel priority)', () => {
  it('writes high before normal before low, whatever the order they were queued in', async () => {
    const log: string[] = [];
    const s = new WriteScheduler();
    for (const [name, p] of [['low', 'low'], ['normal-1', 'normal'], ['high', 'high'], ['normal-2', 'normal']] as const) s.schedule(fakeOutbox(name, p, log));
    await Promise.resolve();
    // High and normal go in the microtask right after the code that queued them; low waits a turn.
    expect(log).toEqual(['high', 'normal-1', 'normal-2']);
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['high', 'normal-1', 'normal-2', 'low']);
  });

  it('a large bulk payload goes one chunk per turn, and control queued meanwhile goes before its next chunk', async () => {
    const log: string[] = [];
    const s = new WriteScheduler();
    s.schedule(fakeOutbox('bulk', 'low', log, 3));
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['bulk']);
    s.schedule(fakeOutbox('control', 'high', log));
    await new Promise((r) => setImmediate(r));
    expect(log.slice(0, 3)).toEqual(['bulk', 'control', 'bulk']);
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['bulk', 'control', 'bulk', 'bulk']);
  });
});

describe('Outbox write-through (latency of a request/reply)', () => {
  it('writes the first message of a turn at once, batches the rest of that turn into one frame, and writes at once again after the loop turned', async () => {
    const { Outbox } = await import('../src/channels/outbox.ts');
    const { resolveChannels } = await import('../src/channels/config.ts');
    const config = resolveChannels(undefined).get('default');
    if (config === undefined) throw new Error('no default channel');
    const frames: number[] = [];
    const outbox = new Outbox(config, { now: () => 0 } as never, new WriteScheduler(), () => undefined);
    outbox.sink = {
      write: (frame, done) => {
        // A DATA frame: its type byte, then per message a 4-byte length and the bytes.
        frames.push(countMessages(frame));
        done();
      },
    };
    outbox.enqueue(Buffer.from('request'), undefined);
    expect(frames, 'written before any microtask ran').toEqual([1]);
    for (let i = 0; i < 5; i++) outbox.enqueue(Buffer.from(`more ${String(i)}`), undefined);
    expect(frames, 'the rest of the turn waits for the microtask').toEqual([1]);
    await Promise.resolve();
    expect(frames).toEqual([1, 5]);
    await new Promise((r) => setImmediate(r));
    outbox.enqueue(Buffer.from('next turn'), undefined);
    expect(frames).toEqual([1, 5, 1]);
  });
});

function countMessages(frame: Uint8Array): number {
  const b = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  let n = 0;
  for (let pos = 1; pos < b.length; pos += 4 + b.readUInt32LE(pos)) n++;
  return n;
}
