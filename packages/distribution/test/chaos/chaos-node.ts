// One node of the chaos run, in its own OS process: it streams numbered at-least-once messages to
// a sink registered by name on every other node, logs every message its own sink gets to a file
// (synchronously: the log outlives a SIGKILL), records its node events, and answers the
// orchestrator over IPC. Configuration: FDN_CHAOS (JSON).

import { appendFileSync } from 'node:fs';
import { consoleLogger } from '@fdn/core';
import { startNode } from '../../src/index.ts';
import type { NodeOptions } from '../../src/index.ts';

interface Config {
  name: string;
  peers: string[];
  port: number;
  advertise: string;
  seeds: string[];
  log: string;
  overlay: NonNullable<NodeOptions['overlay']>;
  reconnectGraceMs: number;
  intervalMs: number;
}

const config = JSON.parse(process.env.FDN_CHAOS ?? '{}') as Config;
const node = await startNode({
  name: config.name,
  secret: 'chaos-cluster-secret',
  listen: { host: '127.0.0.1', port: config.port },
  advertise: [config.advertise],
  seeds: config.seeds,
  overlay: config.overlay,
  reconnectGraceMs: config.reconnectGraceMs,
  channels: { chaos: { reliability: 'at_least_once' } },
  logger: consoleLogger({ level: (process.env.FDN_CHAOS_LOG ?? 'error') as 'error', write: (line) => process.stderr.write(`${String(Date.now())} ${config.name} ${line}\n`) }),
});
const incarnation = node.transport.self.incarnation;

// The sink: one line per message, `from inc seq`, written before the next is taken.
node.runtime.register(
  'chaos-sink',
  node.runtime.spawn(async (ctx) => {
    for (;;) {
      const m = (await ctx.receive()) as { from: string; inc: number; seq: number };
      appendFileSync(config.log, `${m.from} ${String(m.inc)} ${String(m.seq)}\n`);
    }
  }),
);

const events: { t: number; type: string; node: string; reason?: string }[] = [];
node.onNodeEvent((e) => events.push({ t: Date.now(), type: e.type, node: e.node, ...(e.type === 'nodedown' ? { reason: e.reason } : {}) }));

const sent: Record<string, number> = Object.fromEntries(config.peers.map((p) => [p, 0]));
let streaming = false;
const stream = setInterval(() => {
  if (!streaming) return;
  for (const peer of config.peers) {
    const status = node.send({ name: 'chaos-sink', node: peer }, { from: config.name, inc: incarnation, seq: sent[peer] }, { channel: 'chaos' });
    if (status !== 'full') sent[peer] = (sent[peer] ?? 0) + 1;
  }
}, config.intervalMs);

process.on('message', (m: { id: number; cmd: string }) => {
  const answer = (result: unknown): void => {
    process.send?.({ id: m.id, result });
  };
  switch (m.cmd) {
    case 'start':
      streaming = true;
      answer(null);
      return;
    case 'quiet':
      streaming = false;
      answer(null);
      return;
    case 'stats':
      answer({ name: config.name, incarnation, sent, unacked: node.unacknowledged(), nodes: node.nodes(), events });
      return;
    case 'stop':
      clearInterval(stream);
      void node.stop().then(() => {
        answer(null);
        process.exit(0);
      });
      return;
  }
});

// The orchestrator is gone (its IPC channel closed): so is this node, never an orphan.
process.on('disconnect', () => process.exit(0));

process.send?.({ event: 'ready', incarnation });
