// Remote signals on their own (no sockets): what arrives from a peer reaches the runtime's
// processes, a node speaks only for its own processes, links and monitors a peer holds here are
// bounded (system_limit, as OTP names a resource limit), and losing a node breaks every link and
// monitor across to it with noconnection.

import { createRuntime, isDownMessage, isExitMessage, Pid, Ref } from '@fdn/actors';
import type { Runtime } from '@fdn/actors';
import { memoryLogger, VirtualClock } from '@fdn/core';
import { describe, expect, it } from 'vitest';
import { Codec } from '../../src/codec/codec.ts';
import { Dispatcher } from '../../src/node/dispatch.ts';
import { Kind } from '../../src/node/protocol.ts';
import type { Message } from '../../src/node/protocol.ts';
import { RemoteSignals } from '../../src/signals/remote-signals.ts';

function setup(maxSignalsPerPeer?: number) {
  const clock = new VirtualClock();
  const runtime: Runtime = createRuntime({ node: 'here', clock, logger: memoryLogger() });
  const sent: [string, Message][] = [];
  const signals = new RemoteSignals(
    {
      runtime,
      send: (node, m) => {
        sent.push([node, m]);
        return 'sent';
      },
      route: () => 'default',
      isParallel: () => false,
      isUp: () => true,
      resolveGlobal: () => undefined,
      explainNoconnection: (node) => `${node} is gone`,
    },
    maxSignalsPerPeer,
  );
  const codec = new Codec(runtime);
  const dispatch = new Dispatcher(codec, clock, memoryLogger());
  signals.register(dispatch);
  const from = (node: string, m: Message): void => {
    dispatch.receiveFrame(node, codec.encode(m));
  };
  return { runtime, signals, sent, from };
}

/** A local process that keeps what it receives (trapping exits). */
function keeper(runtime: Runtime): { pid: Pid; got: unknown[] } {
  const got: unknown[] = [];
  const pid = runtime.spawn(async (ctx) => {
    ctx.trapExit(true);
    for (;;) got.push(await ctx.receive());
  });
  return { pid, got };
}

describe('RemoteSignals', () => {
  it('a peer holds at most maxSignalsPerPeer links and monitors here; past it: system_limit', async () => {
    const { runtime, signals, sent, from } = setup(3);
    const { pid: local } = keeper(runtime);
    await runtime.idle();
    for (let i = 1; i <= 3; i++) from('there', [Kind.Link, new Pid('there', i, 1), local]);
    expect(signals.signalsFrom('there')).toBe(3);
    from('there', [Kind.Link, new Pid('there', 4, 1), local]);
    from('there', [Kind.Monitor, new Pid('there', 5, 1), local, new Ref('there', 9, 1)]);
    expect(signals.signalsFrom('there')).toBe(3);
    expect(sent.map(([, m]) => [m[0], m.at(-1)])).toEqual([
      [Kind.LinkExit, 'system_limit'],
      [Kind.Down, 'system_limit'],
    ]);
    // Another peer has a budget of its own.
    from('elsewhere', [Kind.Link, new Pid('elsewhere', 1, 1), local]);
    expect(signals.signalsFrom('elsewhere')).toBe(1);
  });

  it('a signal that claims another node’s process as its source is ignored', async () => {
    const { runtime, signals, sent, from } = setup();
    const { pid: local, got } = keeper(runtime);
    await runtime.idle();
    from('there', [Kind.Link, new Pid('impostor', 1, 1), local]);
    from('there', [Kind.Exit, new Pid('impostor', 1, 1), local, 'kill']);
    await runtime.idle();
    expect(signals.signalsFrom('there')).toBe(0);
    expect(runtime.isAlive(local)).toBe(true);
    expect(got).toEqual([]);
    expect(sent).toEqual([]);
  });

  it('losing a node: linked processes get EXIT noconnection, watchers a DOWN noconnection', async () => {
    const { runtime, signals, from } = setup();
    const { pid: local, got } = keeper(runtime);
    const remote = new Pid('there', 7, 1);
    const seen: unknown[] = [];
    runtime.spawn(async (ctx) => {
      ctx.monitor(remote);
      seen.push(await ctx.receive());
    });
    await runtime.idle();
    from('there', [Kind.Link, remote, local]);
    expect(signals.signalsFrom('there')).toBe(1);
    signals.nodeLost('there');
    await runtime.idle();
    expect(got.filter((m) => isExitMessage(m))).toEqual([expect.objectContaining({ from: remote, reason: 'noconnection' })]);
    expect(seen).toEqual([expect.objectContaining({ type: 'DOWN', reason: 'noconnection' })]);
    expect(isDownMessage(seen[0])).toBe(true);
    expect(signals.signalsFrom('there')).toBe(0);
  });
});
