// Two overlays on the same connections: a second overlay (alternate protocol tags) comes up beside the
// first, then the first is detached without touching the transport — the groundwork of switching a
// running cluster's overlay. On the simulator and on real sockets.

import { memoryLogger, seededRandom, systemClock, systemRandom } from '@fdn/core';
import type { Clock, Random } from '@fdn/core';
import { describe, expect, it } from 'vitest';
import { createWsTransport, fullMesh, HyParView, runInSteps, SimNetwork } from '../src/index.ts';
import type { PeerService, Transport } from '../src/index.ts';

interface World {
  transports: Transport[];
  clock: Clock;
  random: () => Random;
  pass(ms: number): Promise<void>;
  cleanup(): Promise<void>;
}

const NAMES = ['h0', 'h1', 'h2', 'h3'];

function sim(): World {
  const net = new SimNetwork({ seed: 11, latencyMs: 2, jitterMs: 1 });
  const r = seededRandom(12);
  return {
    transports: NAMES.map((name) => net.transport({ name, secret: 'handover' })),
    clock: net.clock,
    random: () => r.fork(),
    pass: (ms) => runInSteps(net.clock, ms),
    cleanup: async () => {
      await Promise.all(net.nodes().map((n) => n.stop()));
    },
  };
}

function ws(): World {
  const transports = NAMES.map((name) => createWsTransport({ name, secret: 'handover', pingIntervalMs: 100, idleTimeoutMs: 2_000 }, { logger: memoryLogger() }));
  return {
    transports,
    clock: systemClock(),
    random: () => systemRandom(),
    pass: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    cleanup: async () => {
      await Promise.all(transports.map((t) => t.stop()));
    },
  };
}

async function until(world: World, what: string, cond: () => boolean, limitMs = 10_000): Promise<void> {
  for (let waited = 0; waited <= limitMs; waited += 20) {
    if (cond()) return;
    await world.pass(20);
  }
  throw new Error(`timed out waiting until ${what}`);
}

for (const [label, make] of [
  ['the simulated network', sim],
  ['real sockets on 127.0.0.1', ws],
] as const) {
  describe(`overlay handover on ${label}`, () => {
    it('HyParView (alternate tags) comes up beside a full mesh on the same connections; the mesh detaches; HyParView carries on', async () => {
      const world = make();
      try {
        const components = (t: Transport) => ({ transport: t, clock: world.clock, random: world.random(), logger: memoryLogger() });
        await Promise.all(world.transports.map((t) => t.start()));
        const seed = { name: 'h0', addresses: world.transports[0]?.self.addresses ?? [] };
        const mesh: PeerService[] = world.transports.map((t, i) => fullMesh({ seeds: i === 0 ? [] : [seed], gossipIntervalMs: 200 })(components(t)));
        const meshEvents: string[] = [];
        for (const m of mesh) m.on('membership', () => meshEvents.push(m.self.name));
        for (const m of mesh) void m.start();
        await until(world, 'the full mesh formed', () => mesh.every((m) => m.members().length === 4));

        const hv = world.transports.map((t, i) => new HyParView({ protocolTags: 'alternate', seeds: i === 0 ? [] : [seed], activeSize: 2, passiveSize: 4, shuffleIntervalMs: 500, promotionIntervalMs: 200 }, components(t)));
        for (const h of hv) h.useDirectory({ announceMs: 300 });
        for (const h of hv) void h.start();
        await until(world, 'HyParView formed beside it', () => hv.every((h) => h.members().length === 4 && h.neighbors().length > 0));
        // The mesh did not notice: same members, no connection lost to the newcomer.
        expect(mesh.every((m) => m.members().length === 4)).toBe(true);

        // Forward over the new overlay while both run.
        const got: string[] = [];
        hv[3]?.onMessage('default', (from, payload) => got.push(`${from}:${payload.toString()}`));
        await hv[0]?.forward('h3', 'default', Buffer.from('hello'));
        await until(world, 'the forward arrived', () => got.length === 1);

        for (const m of mesh) await m.detach();
        const eventsAtDetach = meshEvents.length;
        await world.pass(2_000);
        expect(meshEvents.length).toBe(eventsAtDetach);
        expect(hv.every((h) => h.members().length === 4 && h.neighbors().length > 0)).toBe(true);
        // The transports kept running (detach is not stop).
        expect(world.transports.every((t) => t.connections().length > 0)).toBe(true);
        await hv[1]?.forward('h3', 'default', Buffer.from('after'));
        await until(world, 'a forward after the handover', () => got.length === 2);
        for (const h of hv) await h.stop();
      } finally {
        await world.cleanup();
      }
    });
  });
}
