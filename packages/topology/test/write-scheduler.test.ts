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
