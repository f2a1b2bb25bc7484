// Two or three nodes in this process, on real sockets on 127.0.0.1: messages, calls, monitors,
// links, exits and spawns across nodes behave as they do locally.

import { GenServer, isDownMessage, isExitMessage, Pid, TIMEOUT } from '@fdn/actors';
import type { DownMessage, GenServerBehaviour, ProcessContext } from '@fdn/actors';
import { describe, expect, it } from 'vitest';
import { memoryLogger, silentLogger } from '@fdn/core';
import { DistributionErrorCode, startNode } from '../../src/index.ts';
import type { Node, NodeEvent } from '../../src/index.ts';
import { stoppedAfterEach, until } from '../helpers.ts';

const SECRET = 'remote-test-secret';
const started = stoppedAfterEach();

async function cluster(count: number): Promise<Node[]> {
  const first = await startNode({ name: 'n0', secret: SECRET });
  started.push(first);
  const nodes = [first];
  for (let i = 1; i < count; i++) {
    const n = await startNode({ name: `n${String(i)}`, secret: SECRET, seeds: [first.addresses[0] as string] });
    started.push(n);
    nodes.push(n);
  }
  await until(() => nodes.every((n) => n.nodes().length === count - 1), 'every node connected to every other');
  return nodes;
}


const counter: GenServerBehaviour<number, number, 'get' | 'crash' | { add: number }, number> = {
  init: (start) => ({ type: 'ok', state: start }),
  handleCall: (req, _from, state) => {
    if (req === 'get') return { type: 'reply', reply: state, state };
    if (req === 'crash') throw new Error('asked to crash');
    return { type: 'reply', reply: state + req.add, state: state + req.add };
  },
};

/** Runs `body` in a fresh process on `node` and returns what it returns. */
function inProcess<T>(node: Node, body: (ctx: ProcessContext) => Promise<T>): Promise<T> {
  return node.runtime.run(body);
}

describe('across nodes', () => {
  it('sends to a remote pid and to a registered name at a node, in order', async () => {
    const [a, b] = (await cluster(2)) as [Node, Node];
    const received: unknown[] = [];
    const sink = b.runtime.spawn(async (ctx) => {
      for (let i = 0; i < 200; i++) received.push(await ctx.receive());
    });
    b.runtime.register('sink', sink);
    await inProcess(a, (ctx) => {
      for (let i = 0; i < 100; i++) ctx.send(sink, { i, bytes: Buffer.from([i]) });
      for (let i = 100; i < 200; i++) ctx.send({ name: 'sink', node: 'n1' }, { i, bytes: Buffer.from([i]) });
      return Promise.resolve();
    });
    await until(() => received.length === 200, 'all 200 messages arrived');
    expect(received.map((m) => (m as { i: number }).i)).toEqual([...Array(200).keys()]);
    expect(Buffer.isBuffer((received[5] as { bytes: unknown }).bytes) || (received[5] as { bytes: unknown }).bytes instanceof Uint8Array).toBe(true);
  });

  it('GenServer.call across nodes; a crash in the server is the caller’s CALL_EXIT; a dead pid is noproc', async () => {
    const [a, b] = (await cluster(2)) as [Node, Node];
    const server = await GenServer.start(b.runtime, counter, 10);
    expect(await GenServer.call(a.runtime, server, { add: 5 })).toBe(15);
    expect(await GenServer.call(a.runtime, server, 'get')).toBe(15);
    await expect(GenServer.call(a.runtime, server, 'crash')).rejects.toMatchObject({ code: 'FDN_ERR_CALL_EXIT' });
    await expect(GenServer.call(a.runtime, server, 'get', 1_000)).rejects.toMatchObject({ code: 'FDN_ERR_NOPROC' });
  });

  it('calls and monitors by registered name on another node ({ name, node }), as Erlang does', async () => {
    const [a, b] = (await cluster(2)) as [Node, Node];
    const server = await GenServer.start(b.runtime, counter, 1, { name: 'counter' });
    expect(await GenServer.call(a.runtime, { name: 'counter', node: 'n1' }, { add: 2 })).toBe(3);
    await expect(GenServer.call(a.runtime, { name: 'nobody', node: 'n1' }, 'get', 2_000)).rejects.toMatchObject({ code: 'FDN_ERR_NOPROC' });
    const down = await inProcess(a, async (ctx) => {
      const ref = ctx.monitor({ name: 'counter', node: 'n1' });
      await new Promise((r) => setTimeout(r, 50));
      b.runtime.exit(server, 'kill');
      const m = await ctx.receive(isDownMessage, 5_000);
      return { m, ref };
    });
    expect(isDownMessage(down.m) && down.m.ref.equals(down.ref)).toBe(true);
    expect((down.m as { reason: unknown }).reason).toBe('killed');
    // As Erlang's {'DOWN', Ref, process, {counter, n1}, killed}: the name as given, and the pid it stood for.
    expect((down.m as DownMessage).target).toEqual({ name: 'counter', node: 'n1' });
    expect((down.m as DownMessage).pid.equals(server)).toBe(true);
    // A name nobody holds there: DOWN noproc naming it (its pid is id 0: no process).
    const nobody = await inProcess(a, async (ctx) => {
      const ref = ctx.monitor({ name: 'nobody', node: 'n1' });
      return { m: (await ctx.receive(isDownMessage, 5_000)) as DownMessage, ref };
    });
    expect(nobody.m.ref.equals(nobody.ref)).toBe(true);
    expect(nobody.m).toMatchObject({ target: { name: 'nobody', node: 'n1' }, reason: 'noproc' });
    expect(nobody.m.pid.id).toBe(0);
  });

  it('monitors: DOWN with the reason once; a monitor of a dead process is DOWN noproc; demonitor stops it', async () => {
    const [a, b] = (await cluster(2)) as [Node, Node];
    const target = b.runtime.spawn(async (ctx) => {
      await ctx.receive((m) => m === 'stop');
      throw new Error('stopped with a bang');
    });
    const down = await inProcess(a, async (ctx) => {
      const ref = ctx.monitor(target);
      const quiet = ctx.monitor(target);
      ctx.demonitor(quiet);
      ctx.send(target, 'stop');
      const first = await ctx.receive(isDownMessage, 5_000);
      const second = await ctx.receive(isDownMessage, 300);
      return { first, second, ref };
    });
    expect(isDownMessage(down.first) && down.first.ref.equals(down.ref)).toBe(true);
    expect((down.first as { reason: Error }).reason).toBeInstanceOf(Error);
    expect(((down.first as { reason: Error }).reason).message).toContain('stopped with a bang');
    expect(down.second).toBe(TIMEOUT);
    const again = await inProcess(a, async (ctx) => {
      ctx.monitor(target);
      return ctx.receive(isDownMessage, 5_000);
    });
    expect((again as { reason: unknown }).reason).toBe('noproc');
  });

  it('links: an exit crosses both ways; trapped, it is an EXIT message; exit/2 reaches a remote process', async () => {
    const [a, b] = (await cluster(2)) as [Node, Node];
    const remote = b.runtime.spawn(async (ctx) => {
      ctx.trapExit(true);
      const m = await ctx.receive(isExitMessage);
      ctx.send({ name: 'collector', node: 'n0' }, { sawExit: (m as { reason: unknown }).reason });
    });
    const collected: unknown[] = [];
    const collector = a.runtime.spawn(async (ctx) => {
      for (;;) collected.push(await ctx.receive());
    });
    a.runtime.register('collector', collector);
    // A local process links to the remote one and dies: the remote one (trapping) sees EXIT.
    a.runtime.spawn(async (ctx) => {
      ctx.link(remote);
      await new Promise((r) => setTimeout(r, 50));
      throw new Error('local died');
    });
    await until(() => collected.length === 1, 'the remote process reported the EXIT');
    expect(((collected[0] as { sawExit: Error }).sawExit).message).toContain('local died');
    // The other way: a remote process dies and takes a linked local one with it.
    const victim = b.runtime.spawn(async (ctx) => {
      await ctx.receive();
      ctx.exit('boom');
    });
    const local = a.runtime.spawn(async (ctx) => {
      ctx.link(victim);
      await ctx.receive();
    });
    await new Promise((r) => setTimeout(r, 50));
    a.runtime.send(victim, 'go');
    await until(() => !a.runtime.isAlive(local), 'the linked local process died');
    // exit/2 to a remote process.
    const target = b.runtime.spawn(async (ctx) => {
      await ctx.receive();
    });
    a.runtime.exit(target, 'kill');
    await until(() => !b.runtime.isAlive(target), 'exit(kill) reached the remote process');
  });

  it('signals keep their place among the messages of the pair: what a process sent before it exits arrives before the EXIT and the DOWN', async () => {
    const [a, b] = (await cluster(2)) as [Node, Node];
    const SENDERS = 20;
    const EACH = 100;
    const BIG = Buffer.alloc(300 * 1024, 7);
    // On b, one process per sender: traps exits, links to its sender, and records what comes.
    const logs: unknown[][] = [];
    const receivers = Array.from({ length: SENDERS }, (_, i) => {
      logs[i] = [];
      return b.runtime.spawn(async (ctx) => {
        ctx.trapExit(true);
        for (;;) {
          const m = await ctx.receive();
          (logs[i] as unknown[]).push(isExitMessage(m) ? 'EXIT' : m instanceof Uint8Array ? `${String(m.length)} bytes` : m);
          if (isExitMessage(m)) return;
        }
      });
    });
    // A watcher on b monitors every sender; each sender's last words go to it just before it dies.
    const watched: string[] = [];
    const watcher = b.runtime.spawn(async (ctx) => {
      for (;;) {
        const m = await ctx.receive();
        if (m instanceof Pid) ctx.monitor(m);
        else if (isDownMessage(m)) watched.push(`DOWN ${String(m.pid)}`);
        else watched.push(String(m));
      }
    });
    // On a, the senders: link to their receiver, send, say their last words, and exit.
    const senders = receivers.map((receiver) =>
      a.runtime.spawn(async (ctx) => {
        ctx.link(receiver);
        await ctx.receive((m) => m === 'go');
        for (let k = 0; k < EACH; k++) ctx.send(receiver, k);
        // A large one last (sent in chunks over several turns): the EXIT still waits behind it.
        ctx.send(receiver, BIG);
        ctx.send(watcher, `last words of ${String(ctx.self)}`);
        ctx.exit('done talking');
      }),
    );
    for (const sender of senders) b.runtime.send(watcher, sender);
    await new Promise((r) => setTimeout(r, 200)); // the links and monitors are in place
    for (const sender of senders) a.runtime.send(sender, 'go');
    await until(() => logs.every((l) => l.at(-1) === 'EXIT'), 'every receiver got its EXIT', 15_000);
    for (const l of logs) expect(l).toEqual([...Array.from({ length: EACH }, (_, k) => k), `${String(BIG.length)} bytes`, 'EXIT']);
    await until(() => watched.filter((w) => w.startsWith('DOWN')).length === SENDERS, 'every DOWN');
    expect(watched.filter((w) => w.startsWith('last words of '))).toHaveLength(SENDERS);
    for (const w of watched) {
      if (!w.startsWith('last words of ')) continue;
      const pid = w.slice('last words of '.length);
      expect(watched.indexOf(`DOWN ${pid}`), `the DOWN of ${pid} after its last words`).toBeGreaterThan(watched.indexOf(w));
    }
  });

  it('a message that cannot cross nodes fails in the sender with FDN_ERR_ENCODE_FAILED; the node keeps working', async () => {
    const [a, b] = (await cluster(2)) as [Node, Node];
    const got: unknown[] = [];
    const sink = b.runtime.spawn(async (ctx) => {
      for (;;) got.push(await ctx.receive());
    });
    expect(() => {
      a.send(sink, { callback: () => 1 });
    }).toThrow(expect.objectContaining({ code: DistributionErrorCode.ENCODE_FAILED }) as Error);
    expect(() => {
      a.send(sink, { s: Symbol('nope') });
    }).toThrow(expect.objectContaining({ code: DistributionErrorCode.ENCODE_FAILED }) as Error);
    a.send(sink, 'still fine');
    await until(() => got.length === 1, 'the next message arrived');
    expect(got).toEqual(['still fine']);
  });

  it('a frame that cannot be decoded fails alone: dropped and logged with FDN_ERR_DECODE_FAILED, the connection and the next messages carry on', async () => {
    const logger = memoryLogger();
    const a = await startNode({ name: 'n0', secret: SECRET, logger: silentLogger() });
    started.push(a);
    const b = await startNode({ name: 'n1', secret: SECRET, seeds: [a.addresses[0] as string], logger });
    started.push(b);
    await until(() => a.nodes().includes('n1') && b.nodes().includes('n0'), 'connected');
    const closes: (number | undefined)[] = [];
    b.transport.on('connectionDown', (_connection, reason) => closes.push(reason.closeCode));
    const got: unknown[] = [];
    const sink = b.runtime.spawn(async (ctx) => {
      for (;;) got.push(await ctx.receive());
    });
    a.send(sink, 'before the junk');
    a.transport.connection('n1')?.send('default', Buffer.from('not msgpack at all'));
    a.transport.connection('n1')?.send('default', Buffer.from([0x93, 0x00, 0xd4, 0x7e, 0x00, 0x01])); // an unknown extension
    a.send(sink, 'after the junk');
    await until(() => got.length === 2, 'both good messages arrived');
    expect(got).toEqual(['before the junk', 'after the junk']);
    expect(closes).toEqual([]);
    expect(b.framesDropped).toBe(2);
    const reports = logger.entries.filter((e) => e.fields.code === DistributionErrorCode.DECODE_FAILED);
    // One report per peer per 10 s, however many frames: the second is counted, not logged.
    expect(reports).toHaveLength(1);
    expect(reports[0]?.level).toBe('error');
    // ('not msgpack at all' starts with a valid number: what is not a protocol message is refused too.)
    expect(reports[0]?.message).toMatch(/^n0 sent (a message that cannot be decoded|a frame that is not a protocol message)/);
  });

  it('a call to a node that never existed says it was never reached and what to check; to a lost one, that it was lost', async () => {
    const [a, b] = (await cluster(2)) as [Node, Node];
    const never = (await GenServer.call(a.runtime, { name: 'svc', node: 'zz' }, 'hi').catch((err: unknown) => err)) as { code: string; message: string };
    expect(never).toMatchObject({ code: DistributionErrorCode.NOCONNECTION });
    expect(never.message).toContain('node zz was never reached from n0');
    expect(never.message).toContain('connected: n1');
    expect(never.message).not.toContain('was lost');
    const { pid } = await a.spawn(null, 'n1', 'counter', [0]).catch(() => ({ pid: new Pid('n1', 1, b.runtime.incarnation) }));
    started.splice(started.indexOf(b), 1);
    await b.stop();
    await until(() => !a.nodes().includes('n1'), 'n1 gone');
    const lost = (await GenServer.call(a.runtime, pid, 'get').catch((err: unknown) => err)) as { code: string; message: string };
    expect(lost).toMatchObject({ code: DistributionErrorCode.NOCONNECTION });
    expect(lost.message).toMatch(/the connection to node n1 was lost \d+ s ago/);
  });

  it('fuzz: 20,000 random and mutated frames never throw out of the decoder, and the node keeps working', async () => {
    const [a, b] = (await cluster(2)) as [Node, Node];
    const got: unknown[] = [];
    const sink = b.runtime.spawn(async (ctx) => {
      for (;;) got.push(await ctx.receive());
    });
    const valid = [
      [0, sink, { hello: 'world', n: 1, list: [1, 2, 3] }],
      [1, 'name', 'x'],
      [6, sink, sink, b.runtime.makeRef()],
      [9, 1, 'counter', [1], null, false, null],
      [11, [3, [['n', sink]]]],
      [12, [1, 'g', [sink]]],
      [13, [0, 'default', 1, 1, Buffer.from([0x91, 0x00])]],
    ];
    const { Codec } = await import('../../src/index.ts');
    const codec = new Codec(a.runtime);
    const frames = valid.map((v) => codec.encode(v));
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 20_000; i++) {
      let frame: Buffer;
      if (i % 4 === 0) {
        frame = Buffer.alloc(rand(64));
        for (let k = 0; k < frame.length; k++) frame[k] = rand(256);
      } else {
        frame = Buffer.from(frames[rand(frames.length)] as Buffer);
        for (let k = 0, flips = 1 + rand(4); k < flips && frame.length > 0; k++) frame[rand(frame.length)] = rand(256);
        if (rand(5) === 0) frame = frame.subarray(0, rand(frame.length + 1));
      }
      expect(() => {
        b.receiveFrame('n0', frame);
      }).not.toThrow();
    }
    // Garbage was dropped frame by frame; the connection stayed and messages flow.
    await until(() => a.nodes().includes('n1') && b.nodes().includes('n0'), 'linked again');
    await until(() => {
      a.send(sink, 'still alive');
      return got.includes('still alive');
    }, 'a message got through');
  });

  it('spawns a registered behaviour on another node (linked or monitored from the start); unknown names fail clearly', async () => {
    const [a, b] = (await cluster(2)) as [Node, Node];
    b.factory.register('counter', counter);
    b.factory.register('sleeper', async (ctx: ProcessContext, ms: unknown) => {
      await new Promise((r) => setTimeout(r, ms as number));
      ctx.exit('done sleeping');
    });
    const result = await inProcess(a, async (ctx) => {
      const { pid } = await a.spawn(ctx, 'n1', 'counter', [100]);
      const value = await GenServer.call(ctx, pid, { add: 1 });
      const monitored = await a.spawn(ctx, 'n1', 'sleeper', [20], { monitor: true });
      const down = await ctx.receive(isDownMessage, 5_000);
      return { pid, value, monitored, down };
    });
    expect(result.pid.node).toBe('n1');
    expect(result.value).toBe(101);
    expect((result.down as { reason: unknown }).reason).toBe('done sleeping');
    expect((result.down as { ref: { equals(x: unknown): boolean } }).ref.equals(result.monitored.ref)).toBe(true);
    await expect(a.spawn(null, 'n1', 'nope', [])).rejects.toMatchObject({ code: DistributionErrorCode.UNKNOWN_BEHAVIOUR });
    await expect(a.spawn(null, 'n9', 'counter', [])).rejects.toMatchObject({ code: DistributionErrorCode.NOCONNECTION });
    // A linked spawn: the spawner dies with the spawned process.
    const spawner = a.runtime.spawn(async (ctx) => {
      await a.spawn(ctx, 'n1', 'sleeper', [20], { link: true });
      await ctx.receive();
    });
    await until(() => !a.runtime.isAlive(spawner), 'the linked spawner died with its remote child');
  });

  it('remote spawn errors: a failing init is SPAWN_FAILED, ignore is SPAWN_FAILED, a start that never answers is SPAWN_TIMEOUT', async () => {
    const [a, b] = (await cluster(2)) as [Node, Node];
    b.factory.register('broken', { init: () => ({ type: 'stop' as const, reason: 'cannot start' }) });
    b.factory.register('shy', { init: () => ({ type: 'ignore' as const }) });
    b.factory.register('stuck', { kind: 'start', start: () => new Promise<never>(() => undefined) });
    await expect(a.spawn(null, 'n1', 'broken', [])).rejects.toMatchObject({ code: DistributionErrorCode.SPAWN_FAILED });
    await expect(a.spawn(null, 'n1', 'shy', [])).rejects.toMatchObject({ code: DistributionErrorCode.SPAWN_FAILED });
    await expect(a.spawn(null, 'n1', 'stuck', [], { timeoutMs: 300 })).rejects.toMatchObject({ code: DistributionErrorCode.SPAWN_TIMEOUT });
    // Arguments that cannot cross nodes fail in the caller.
    await expect(a.spawn(null, 'n1', 'broken', [() => 1])).rejects.toMatchObject({ code: DistributionErrorCode.ENCODE_FAILED });
    // The factory refuses duplicate names and junk.
    expect(() => {
      b.factory.register('broken', { init: () => ({ type: 'ignore' as const }) });
    }).toThrow(expect.objectContaining({ code: DistributionErrorCode.BAD_CONFIG }) as Error);
    expect(b.factory.names().filter((n) => !n.startsWith('fdn.'))).toEqual(['broken', 'shy', 'stuck']);
  });

  it('node events reach monitorNodes processes and listeners; stop is a nodedown elsewhere', async () => {
    const [a, b, c] = (await cluster(3)) as [Node, Node, Node];
    const events: NodeEvent[] = [];
    a.onNodeEvent((e) => events.push(e));
    const seen: unknown[] = [];
    const watcher = a.runtime.spawn(async (ctx) => {
      for (;;) seen.push(await ctx.receive());
    });
    a.monitorNodes(watcher);
    const remote = c.runtime.spawn(async (ctx) => {
      await ctx.receive();
    });
    const down = inProcess(a, async (ctx) => {
      ctx.monitor(remote);
      return ctx.receive(isDownMessage, 8_000);
    });
    await new Promise((r) => setTimeout(r, 50));
    started.splice(started.indexOf(c), 1);
    await c.stop();
    // An orderly stop: the process exits with shutdown before its node leaves (OTP's init:stop); a SIGKILL gives noconnection (node-loss tests).
    expect((await down as { reason: unknown }).reason).toBe('shutdown');
    await until(() => events.some((e) => e.type === 'nodedown' && e.node === 'n2'), 'a nodedown for n2');
    await until(() => seen.some((e) => (e as NodeEvent).type === 'nodedown'), 'the watcher got nodedown');
    expect(a.nodes()).toEqual(['n1']);
    expect(b.nodes()).toEqual(['n0']);
    expect(watcher).toBeInstanceOf(Pid);
  });

  it('refuses bad configuration with FDN_ERR_BAD_CONFIG', async () => {
    await expect(startNode({ name: 'bad name!', secret: SECRET })).rejects.toMatchObject({ code: DistributionErrorCode.BAD_CONFIG });
    await expect(startNode({ name: 'x', secret: 'short' })).rejects.toMatchObject({ code: DistributionErrorCode.BAD_CONFIG });
    await expect(startNode({ name: 'x', secret: SECRET, overlay: { kind: 'ring' } as never })).rejects.toMatchObject({ code: DistributionErrorCode.BAD_CONFIG });
  });
});
