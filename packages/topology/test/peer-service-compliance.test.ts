// Runs the PeerService compliance suite for every overlay, on the simulator and on real sockets.

import { memoryLogger, seededRandom, systemClock, systemRandom } from '@fdn/core';
import { clientServer, createWsTransport, fullMesh, HyParView, hyparview, runInSteps, SimNetwork, staticMembers, WsTransport } from '../src/index.ts';
import type { PeerSpec } from '../src/index.ts';
import { peerServiceCompliance } from './compliance/peer-service-compliance.ts';
import type { Member, OverlayKind, OverlayWorld } from './compliance/peer-service-compliance.ts';

const SECRET = 'overlay compliance';

function specOf(m: Member): PeerSpec {
  return { name: m.name, addresses: [...m.overlay.self.addresses] };
}

async function joinFirst(member: Member, existing: Member[]): Promise<void> {
  await member.overlay.join(specOf(existing[0] as Member));
}

const kinds: OverlayKind[] = [
  {
    label: 'FullMesh',
    make: (_i, c) => fullMesh({ gossipIntervalMs: 300, redialMs: 50, maxRedialMs: 400 })(c),
    join: joinFirst,
    neighborBounds: (_i, n) => ({ min: n - 1, max: n - 1 }),
  },
  {
    label: 'HyParView (active 3, with its member directory)',
    make: (_i, c) => hyparview({ activeSize: 3, passiveSize: 8, arwl: 3, prwl: 1, shuffleIntervalMs: 500, promotionIntervalMs: 200, neighborTimeoutMs: 300, retryUnreachableMs: 300 })(c),
    attach: (overlay) => {
      if (!(overlay instanceof HyParView)) throw new Error('expected a HyParView');
      overlay.useDirectory({ announceMs: 300 });
    },
    join: joinFirst,
    // Nodes one short of a full view do not insist (they would push the hole around): 2..3.
    neighborBounds: (_i, n) => ({ min: Math.min(2, n - 1), max: 3 }),
    partialView: true,
  },
  {
    label: 'ClientServer (2 servers, the rest clients)',
    make: (i, c) => clientServer({ role: i < 2 ? 'server' : 'client', gossipIntervalMs: 300, redialMs: 50, maxRedialMs: 400 })(c),
    join: joinFirst,
    // Servers connection to everyone, clients to the servers only.
    neighborBounds: (i, n) => (i < 2 ? { min: n - 1, max: n - 1 } : { min: 2, max: 2 }),
  },
  {
    label: 'Static',
    make: (_i, c) => staticMembers({ members: [], redialMs: 50, maxRedialMs: 400 })(c),
    // No gossip: a node joins each member (each lists the other in turn).
    join: async (m, existing) => {
      for (const e of existing) await m.overlay.join(specOf(e));
    },
    neighborBounds: (_i, n) => ({ min: n - 1, max: n - 1 }),
  },
];

function simWorld(seed: number): () => OverlayWorld {
  return () => {
    const net = new SimNetwork({ seed, latencyMs: 2, jitterMs: 1 });
    const random = seededRandom(seed + 1);
    const world: OverlayWorld = {
      transport: (name) => net.transport({ name, secret: SECRET }),
      clock: net.clock,
      random: () => random.fork(),
      logger: memoryLogger(),
      pass: (ms) => runInSteps(net.clock, ms),
      drive: async <T,>(promise: Promise<T>): Promise<T> => {
        let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
        promise.then(
          (value) => (outcome = { ok: true, value }),
          (error: unknown) => (outcome = { ok: false, error }),
        );
        await runInSteps(net.clock, 60_000, 1, () => outcome !== undefined);
        if (outcome === undefined) throw new Error('the promise did not settle within a virtual minute');
        if (!outcome.ok) throw outcome.error;
        return outcome.value;
      },
      crash: async (m) => {
        net.crash(m.name);
        m.plumtree.stop();
        await m.overlay.stop();
      },
      cleanup: async () => {
        await Promise.all(net.nodes().map((n) => n.stop()));
      },
      settleMs: 10_000,
    };
    return world;
  };
}

function wsWorld(): OverlayWorld {
  const transports: WsTransport[] = [];
  return {
    transport: (name) => {
      const t = createWsTransport({ name, secret: SECRET, pingIntervalMs: 100, idleTimeoutMs: 1_000 }, { logger: memoryLogger() });
      transports.push(t);
      return t;
    },
    clock: systemClock(),
    random: () => systemRandom(),
    logger: memoryLogger(),
    pass: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    drive: (promise) => promise,
    crash: async (m) => {
      const t = transports.filter((x) => x.self.name === m.name).at(-1);
      if (t === undefined) throw new Error(`no live transport ${m.name}`);
      await t.abort();
      m.plumtree.stop();
      await m.overlay.stop();
    },
    cleanup: async () => {
      await Promise.all(transports.map((t) => t.stop()));
    },
    settleMs: 5_000,
  };
}

kinds.forEach((kind, i) => {
  peerServiceCompliance(kind, 'the simulated network', simWorld(100 + i));
  peerServiceCompliance(kind, 'real sockets on 127.0.0.1', wsWorld);
});
