// The compliance suite every discovery strategy passes: it lists what its source lists (sorted,
// once each, itself left out), follows changes, stays quiet after stop, survives a failing source
// (an error event, the last peers kept, recovery) and a throwing listener, and starts and stops
// harmlessly twice. A strategy's harness says how to change and break its source.

import { memoryLogger, seededRandom, systemClock } from '@fdn/core';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterError } from '../../src/index.ts';
import { secretMac } from '../../src/strategies/gossip/announcement.ts';
import type { Peer, Strategy, StrategyComponents } from '../../src/index.ts';
import { sleep, waitFor } from './wait.ts';

const EXTRA = ['ws://127.0.0.1:4901', 'ws://127.0.0.1:4902'] as const;

export const SELF = { name: 'self@127.0.0.1', addresses: ['ws://127.0.0.1:4999'] };

export interface StrategyHarness {
  /** The strategy under test, for this node. */
  create(components: StrategyComponents): Strategy;
  /** Makes the source list `peers` (by address; the harness may list SELF too, which must not come out). */
  setPeers?(peers: readonly string[]): Promise<void>;
  /** What the source lists at first (addresses, without SELF). */
  initial: readonly string[];
  /** Two addresses the source can list besides (default ws://127.0.0.1:4901 and :4902). */
  extra?: readonly [string, string];
  /** Makes the source fail / answer again (for sources that can fail). */
  breakSource?(): void;
  restoreSource?(): void;
  close(): Promise<void>;
}

export function components(overrides: Partial<StrategyComponents> = {}): StrategyComponents {
  return { self: SELF, mac: secretMac('compliance-secret'), clock: systemClock(), random: seededRandom(7), logger: memoryLogger(), ...overrides };
}

const addresses = (peers: readonly Peer[]): string[] => peers.map((p) => p.address);

export function strategyCompliance(name: string, makeHarness: () => Promise<StrategyHarness>): void {
  describe(`${name}: discovery strategy compliance`, () => {
    let harness: StrategyHarness | null = null;
    const strategies: Strategy[] = [];
    const start = async (): Promise<{ h: StrategyHarness; s: Strategy; events: (readonly Peer[])[]; errors: ClusterError[] }> => {
      harness = await makeHarness();
      const s = harness.create(components());
      strategies.push(s);
      const events: (readonly Peer[])[] = [];
      const errors: ClusterError[] = [];
      s.on('peers', (p) => events.push(p));
      s.on('error', (e) => errors.push(e));
      await s.start();
      return { h: harness, s, events, errors };
    };

    afterEach(async () => {
      for (const s of strategies.splice(0)) await s.stop();
      await harness?.close();
      harness = null;
    });

    it('lists what its source lists: sorted by address, once each, itself left out', async () => {
      const { h, s, events } = await start();
      const expected = [...new Set(h.initial)].sort();
      await waitFor(`the peers ${expected.join(', ')}`, () => addresses(s.peers()).join() === expected.join());
      expect(addresses(s.peers())).not.toContain(SELF.addresses[0]);
      expect(s.peers().some((p) => p.name === SELF.name)).toBe(false);
      expect(addresses(events.at(-1) ?? [])).toEqual(expected);
    });

    it('starts and stops twice harmlessly, stops before start harmlessly, and is quiet after stop', async () => {
      const h = (harness = await makeHarness());
      const never = h.create(components());
      await never.stop();
      await never.stop();
      const s = h.create(components());
      strategies.push(s);
      let events = 0;
      s.on('peers', () => events++);
      await Promise.all([s.start(), s.start()]);
      await waitFor('the first peers', () => s.peers().length === h.initial.length);
      await s.stop();
      await s.stop();
      const seen = events;
      if (h.setPeers !== undefined) await h.setPeers([...h.initial, (h.extra ?? EXTRA)[0]]);
      await sleep(300);
      expect(events).toBe(seen);
    });

    it('follows its source: a node added, then one gone', async () => {
      const { h, s } = await start();
      if (h.setPeers === undefined) { expect(h.initial.length).toBeGreaterThan(0); return; } // a fixed list: nothing to follow
      const [added] = h.extra ?? EXTRA;
      await waitFor('the first peers', () => s.peers().length === h.initial.length);
      await h.setPeers([...h.initial, added, SELF.addresses[0] as string]);
      await waitFor('the added node', () => addresses(s.peers()).includes(added), 8_000);
      expect(addresses(s.peers())).not.toContain(SELF.addresses[0]);
      await h.setPeers(h.initial.slice(1));
      await waitFor('the nodes gone', () => s.peers().length === h.initial.length - 1, 8_000);
      expect(addresses(s.peers())).toEqual([...h.initial.slice(1)].sort());
    });

    it('survives a failing source: an error event with a stable code, the last peers kept, then recovery', async () => {
      const { h, s, errors } = await start();
      if (h.breakSource === undefined || h.restoreSource === undefined || h.setPeers === undefined) { expect(h.initial.length).toBeGreaterThan(0); return; } // nothing that can fail
      await waitFor('the first peers', () => s.peers().length === h.initial.length);
      h.breakSource();
      const error = await waitFor('an error event', () => errors[0], 8_000);
      expect(error).toBeInstanceOf(ClusterError);
      expect(error.code).toMatch(/^FDN_ERR_/);
      expect(addresses(s.peers())).toEqual([...h.initial].sort());
      const [, added] = h.extra ?? EXTRA;
      await h.setPeers([...h.initial, added]);
      h.restoreSource();
      await waitFor('recovery with the new node', () => addresses(s.peers()).includes(added), 10_000);
    });

    it('a throwing listener does not stop it', async () => {
      const h = (harness = await makeHarness());
      const logger = memoryLogger();
      const s = h.create(components({ logger }));
      strategies.push(s);
      s.on('peers', () => {
        throw new Error('listener bug');
      });
      const seen: (readonly Peer[])[] = [];
      s.on('peers', (p) => seen.push(p));
      await s.start();
      await waitFor('the peers, past the throwing listener', () => seen.length > 0);
      expect(logger.entries.some((e) => e.level === 'error' && e.message.includes('listener'))).toBe(true);
    });
  });
}
