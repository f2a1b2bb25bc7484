// Runs the Transport compliance suite against the WebSocket transport and the simulator.

import { memoryLogger } from '@fdn/core';
import { createWsTransport, SimNetwork, WsTransport } from '../src/index.ts';
import type { Transport } from '../src/index.ts';
import { transportCompliance } from './compliance/transport-compliance.ts';
import type { World } from './compliance/transport-compliance.ts';

const SECRET = 'compliance secret';

transportCompliance('WebSocket (real sockets on 127.0.0.1)', (): World => {
  const nodes: WsTransport[] = [];
  return {
    node: (name, options) => {
      const t = createWsTransport({ name, secret: options?.secret ?? SECRET, ...(options?.channels === undefined ? {} : { channels: options.channels }), pingIntervalMs: 200 }, { logger: memoryLogger() });
      nodes.push(t);
      return t;
    },
    pass: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    drive: (promise) => promise,
    crash: (t) => {
      if (!(t instanceof WsTransport)) throw new Error('not a WsTransport');
      return t.abort();
    },
    cleanup: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
});

transportCompliance('simulated network', (): World => {
  const net = new SimNetwork({ seed: 42, latencyMs: 2, jitterMs: 1 });
  return {
    node: (name, options): Transport =>
      net.transport({ name, secret: options?.secret ?? SECRET, ...(options?.channels === undefined ? {} : { channels: options.channels }) }),
    pass: (ms) => net.clock.advance(ms),
    drive: async <T,>(promise: Promise<T>): Promise<T> => {
      let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
      promise.then(
        (value) => (outcome = { ok: true, value }),
        (error: unknown) => (outcome = { ok: false, error }),
      );
      // Advance virtual time until it settles, at most one virtual minute.
      for (let t = 0; t < 60_000 && outcome === undefined; t++) await net.clock.advance(1);
      if (outcome === undefined) throw new Error('the promise did not settle within a virtual minute');
      if (!outcome.ok) throw outcome.error;
      return outcome.value;
    },
    crash: (t) => {
      net.crash(t.self.name);
      return Promise.resolve();
    },
    cleanup: async () => {
      await Promise.all(net.nodes().map((n) => n.stop()));
    },
  };
});
