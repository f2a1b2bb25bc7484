// Receiver of the `remote` benchmark: an @fdn node with a `sink` process that counts messages
// and tells the sender's `reporter` when the expected number arrived, an `echo` process that
// answers each `{ from, i }` with `i`, a `counter` GenServer for calls, and a raw ws server
// (the baseline of the same run).

import { GenServer } from '@fdn/actors';
import type { Pid } from '@fdn/actors';
import { startNode } from '@fdn/distribution';
import { rawWsServer } from './raw-ws.js';

const { secret } = JSON.parse(process.env.FDN_PEER ?? '{}') as { secret: string };
const node = await startNode({ name: 'remote-receiver', secret, channels: { reliable: { reliability: 'at_least_once' }, parallel: { parallelism: 4 } } });
let expected = Number.POSITIVE_INFINITY;
// Failure-detector false positives: the sender never dies during the run.
let nodedowns = 0;
node.onNodeEvent((e) => {
  if (e.type === 'nodedown') nodedowns++;
});
let count = 0;

const sink = node.runtime.spawn(async (ctx) => {
  for (;;) {
    await ctx.receive();
    if (++count === expected) ctx.send({ name: 'reporter', node: 'remote-sender' }, 'done');
  }
});
node.runtime.register('sink', sink);
// Eight more sinks counting into the same total: the parallel pairs of `parallelPairs`.
for (let k = 0; k < 8; k++) {
  node.runtime.register(
    `sink${String(k)}`,
    node.runtime.spawn(async (ctx) => {
      for (;;) {
        await ctx.receive();
        if (++count === expected) ctx.send({ name: 'reporter', node: 'remote-sender' }, 'done');
      }
    }),
  );
}
const echo = node.runtime.spawn(async (ctx) => {
  for (;;) {
    const m = (await ctx.receive()) as { from: Pid; i: number };
    ctx.send(m.from, m.i);
  }
});
node.runtime.register('echo', echo);
const counter = await GenServer.start(
  node.runtime,
  {
    init: () => ({ type: 'ok' as const, state: 0 }),
    handleCall: (n: number, _from: unknown, state: number) => ({ type: 'reply' as const, reply: state + n, state: state + n }),
  },
  undefined,
);
await node.registerGlobal('counter', counter);
const ws = await rawWsServer(() => expected);

process.on('message', (m: { expect?: number }) => {
  if (m.expect !== undefined) {
    expected = m.expect;
    count = 0;
    process.send?.({ ready: true, nodedowns });
  }
});
process.send?.({ address: node.addresses[0], ws });
