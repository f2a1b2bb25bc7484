// Suite `local`: in-process messaging of @fdn/actors beside nact and a plain-JS baseline
// (async functions awaiting an array queue), in one run, with ratios.

import { createRuntime, GenServer } from '@fdn/actors';
import type { Pid, ProcessContext, Runtime } from '@fdn/actors';
import { startNode } from '@fdn/distribution';
import nact from 'nact';
import { gc, Recorder, tick } from '../harness.js';
import type { SuiteOptions } from '../harness.js';
import { whileScraped } from '../scraped.js';

interface Sizes {
  roundTrips: number;
  fanoutReceivers: number;
  fanoutMessages: number;
  spawns: number;
  idleProcesses: number;
  calls: number;
  million: number;
  repetitions: number;
}

const FULL: Sizes = {
  roundTrips: 1_000_000,
  fanoutReceivers: 1_000,
  fanoutMessages: 1_000_000,
  spawns: 200_000,
  idleProcesses: 100_000,
  calls: 200_000,
  million: 1_000_000,
  repetitions: 5,
};

const QUICK: Sizes = {
  roundTrips: 200_000,
  fanoutReceivers: 1_000,
  fanoutMessages: 200_000,
  spawns: 50_000,
  idleProcesses: 100_000,
  calls: 50_000,
  million: 0,
  repetitions: 2,
};

export async function runLocal(options: SuiteOptions): Promise<void> {
  const sizes = options.quick ? QUICK : FULL;
  const rec = new Recorder('local', options, sizes.repetitions);
  rec.notes.push(
    `ping-pong: ${sizes.roundTrips} round trips between two processes`,
    `fan-out: 1 sender -> ${sizes.fanoutReceivers} receivers, ${sizes.fanoutMessages} messages`,
    `medians of ${sizes.repetitions} repetitions, implementations interleaved within each repetition`,
  );
  for (let rep = 0; rep < sizes.repetitions; rep++) {
    console.log(`repetition ${rep + 1}/${sizes.repetitions}`);
    rec.add('fdn.pingpong_rps', await fdnPingPong(sizes.roundTrips), 'rt/s');
    rec.add('nact.pingpong_rps', await nactPingPong(sizes.roundTrips), 'rt/s');
    rec.add('baseline.pingpong_rps', await baselinePingPong(sizes.roundTrips), 'rt/s');
    rec.add('fdn.fanout_mps', await fdnFanout(sizes.fanoutReceivers, sizes.fanoutMessages), 'msg/s');
    rec.add('nact.fanout_mps', await nactFanout(sizes.fanoutReceivers, sizes.fanoutMessages), 'msg/s');
    rec.add('baseline.fanout_mps', await baselineFanout(sizes.fanoutReceivers, sizes.fanoutMessages), 'msg/s');
    rec.add('fdn.handler_pingpong_rps', await fdnHandlerPingPong(sizes.roundTrips), 'rt/s');
    // The same ping-pong on a node, without and with its metrics endpoint scraped every 100 ms.
    // Which goes first alternates between repetitions; ten times the round trips (~2 s, ~20
    // scrapes), since a run of a quarter second varies between runs by more than scrapes cost.
    for (const scraped of rep % 2 === 0 ? [false, true] : [true, false]) rec.add(scraped ? 'fdn_metrics.pingpong_rps' : 'fdn_node.pingpong_rps', await nodePingPong(10 * sizes.roundTrips, scraped), 'rt/s');
    rec.add('fdn.spawn_exit_per_s', await fdnSpawnExit(sizes.spawns), 'proc/s');
    rec.add('fdn.genserver_call_rps', await fdnCalls(sizes.calls), 'call/s');
    rec.add('fdn.bytes_per_idle_process', await fdnIdleBytes(sizes.idleProcesses), 'B');
    rec.add('fdn.bytes_per_idle_genserver', await fdnIdleGenServerBytes(sizes.idleProcesses), 'B');
  }
  if (sizes.million > 0) {
    const { seconds, heapMb } = await fdnMillion(sizes.million);
    rec.add('fdn.million_processes_spawn_s', seconds, 's');
    rec.add('fdn.million_processes_heap_mb', heapMb, 'MB');
  } else {
    rec.notes.push('--quick skips the 1,000,000-process run');
  }

  rec.table('Local messaging (higher is better)', [
    { label: 'ping-pong round trips/s', metric: 'pingpong_rps', impls: ['fdn', 'nact', 'baseline'] },
    { label: 'fan-out msgs/s', metric: 'fanout_mps', impls: ['fdn', 'nact', 'baseline'] },
  ]);
  rec.table('@fdn only', [
    { label: 'ping-pong, handler processes (GenServer-style)', metric: 'handler_pingpong_rps', impls: ['fdn'] },
    { label: 'spawn + normal exit per s', metric: 'spawn_exit_per_s', impls: ['fdn'] },
    { label: 'GenServer.call per s (sequential)', metric: 'genserver_call_rps', impls: ['fdn'] },
    { label: 'bytes per idle async-function process (lower is better)', metric: 'bytes_per_idle_process', impls: ['fdn'] },
    { label: 'bytes per idle GenServer (lower is better)', metric: 'bytes_per_idle_genserver', impls: ['fdn'] },
    { label: '1,000,000 live processes: spawn time', metric: 'million_processes_spawn_s', impls: ['fdn'] },
    { label: '1,000,000 live processes: heap', metric: 'million_processes_heap_mb', impls: ['fdn'] },
  ]);
  rec.table('Metrics cost: ping-pong on a node, its /metrics scraped every 100 ms (target >= 0.95x)', [{ label: 'ping-pong round trips/s', metric: 'pingpong_rps', impls: ['fdn_node', 'fdn_metrics'] }]);
  const withMetrics = (rec.get('fdn_metrics.pingpong_rps')?.median ?? 0) / (rec.get('fdn_node.pingpong_rps')?.median ?? 1);
  rec.add('fdn_metrics.pingpong_ratio', withMetrics, '×');
  console.log(`ping-pong with metrics scraped: ${withMetrics.toFixed(3)}× of without`);
  const erlang = { pingpong: 1.78e6, fanout: 1.91e6 };
  const pp = rec.get('fdn.pingpong_rps')?.median ?? 0;
  const fo = rec.get('fdn.fanout_mps')?.median ?? 0;
  console.log(
    `\nAnchors from BENCHMARKS.md (Erlang/OTP on this machine, not re-measured here): ping-pong 1.78 M rt/s -> fdn ${(pp / erlang.pingpong).toFixed(2)}×; fan-out 1.91 M msg/s -> fdn ${(fo / erlang.fanout).toFixed(2)}×`,
  );
  console.log('Targets: ping-pong >= 2.5 M rt/s, fan-out >= 3 M msg/s, <= 1 KB per idle process, 1,000,000 live processes');
  console.log(`\nwrote ${rec.write()}`);
}

// ==== @fdn ====

async function fdnPingPong(n: number): Promise<number> {
  const rt = createRuntime({ node: 'bench', incarnation: 1 });
  const rps = await pingPongOn(rt, n);
  rt.shutdown();
  await tick();
  return rps;
}

/** Ping-pong on a node's runtime; with `scraped`, the node serves /metrics and is scraped every 100 ms meanwhile. */
async function nodePingPong(n: number, scraped: boolean): Promise<number> {
  const node = await startNode({ name: 'bench', secret: 'bench-local-secret' });
  try {
    if (!scraped) return await pingPongOn(node.runtime, n);
    const { result, scrapes } = await whileScraped(node, () => pingPongOn(node.runtime, n));
    console.log(`  ping-pong with /metrics scraped: ${String(scrapes)} scrapes during the run`);
    return result;
  } finally {
    await node.stop();
  }
}

/** Round trips per second of `n` ping-pongs between two processes of `rt`. */
async function pingPongOn(rt: Runtime, n: number): Promise<number> {
  const seconds = await rt.run(async (ctx) => {
    const pong = ctx.spawn(async (c) => {
      for (;;) {
        const from = (await c.receive()) as Pid | null;
        if (from === null) return;
        c.send(from, 'pong');
      }
    });
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      ctx.send(pong, ctx.self);
      await ctx.receive();
    }
    const t = (performance.now() - t0) / 1000;
    ctx.send(pong, null);
    return t;
  });
  return n / seconds;
}

/** Ping-pong between two handler-driven processes (the path GenServer casts take). */
async function fdnHandlerPingPong(n: number): Promise<number> {
  const rt = createRuntime({ node: 'bench', incarnation: 1 });
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const echo = {
    init: () => ({ type: 'ok' as const, state: null }),
    handleCast: (m: { reply: Pid; i: number }, s: null, ctx: ProcessContext) => {
      GenServer.cast(ctx, m.reply, m.i);
      return { type: 'noreply' as const, state: s };
    },
  };
  const pong = await GenServer.start(rt, echo, undefined);
  const ping = await GenServer.start(
    rt,
    {
      init: () => ({ type: 'ok' as const, state: 0 }),
      handleCast: (i: number, count: number, ctx: ProcessContext) => {
        if (count + 1 >= n) resolveDone();
        else GenServer.cast(ctx, pong, { reply: ctx.self, i });
        return { type: 'noreply' as const, state: count + 1 };
      },
    },
    undefined,
  );
  const t0 = performance.now();
  GenServer.cast(rt, pong, { reply: ping, i: 0 });
  await done;
  const seconds = (performance.now() - t0) / 1000;
  rt.shutdown();
  await tick();
  return n / seconds;
}

async function fdnFanout(receivers: number, messages: number): Promise<number> {
  const rt = createRuntime({ node: 'bench', incarnation: 1 });
  const per = Math.floor(messages / receivers);
  const seconds = await rt.run(async (ctx) => {
    const self = ctx.self;
    const pids: Pid[] = [];
    for (let r = 0; r < receivers; r++) {
      pids.push(
        ctx.spawn(async (c) => {
          for (let i = 0; i < per; i++) await c.receive();
          c.send(self, 'done');
        }),
      );
    }
    await tick();
    const t0 = performance.now();
    for (let i = 0; i < per; i++) for (const pid of pids) ctx.send(pid, i);
    for (let r = 0; r < receivers; r++) await ctx.receive();
    return (performance.now() - t0) / 1000;
  });
  rt.shutdown();
  await tick();
  return (per * receivers) / seconds;
}

async function fdnSpawnExit(n: number): Promise<number> {
  const rt = createRuntime({ node: 'bench', incarnation: 1 });
  const body = (): void => undefined;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) rt.spawn(body);
  while (rt.processCount > 0) await tick();
  const seconds = (performance.now() - t0) / 1000;
  rt.shutdown();
  return n / seconds;
}

async function fdnCalls(n: number): Promise<number> {
  const rt = createRuntime({ node: 'bench', incarnation: 1 });
  const server = await GenServer.start(
    rt,
    {
      init: () => ({ type: 'ok' as const, state: 0 }),
      handleCall: (_req: number, _from, s: number) => ({ type: 'reply' as const, reply: s, state: s + 1 }),
    },
    undefined,
  );
  const seconds = await rt.run(async (ctx) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await GenServer.call(ctx, server, i);
    return (performance.now() - t0) / 1000;
  });
  rt.shutdown();
  await tick();
  return n / seconds;
}

const idleBody = async (ctx: ProcessContext): Promise<void> => {
  for (;;) await ctx.receive();
};

async function fdnIdleBytes(n: number): Promise<number> {
  const rt = createRuntime({ node: 'bench', incarnation: 1 });
  await tick();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) rt.spawn(idleBody);
  await rt.idle();
  gc();
  const after = process.memoryUsage().heapUsed;
  if (rt.processCount !== n) throw new Error(`expected ${n} live processes, found ${rt.processCount}`);
  rt.shutdown();
  await tick();
  return (after - before) / n;
}

async function fdnIdleGenServerBytes(n: number): Promise<number> {
  const rt = createRuntime({ node: 'bench', incarnation: 1 });
  const behaviour = {
    init: () => ({ type: 'ok' as const, state: 0 }),
    handleCall: (_r: unknown, _f: unknown, s: number) => ({ type: 'reply' as const, reply: s, state: s }),
  };
  await tick();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) await GenServer.start(rt, behaviour, undefined);
  await rt.idle();
  gc();
  const after = process.memoryUsage().heapUsed;
  if (rt.processCount !== n) throw new Error(`expected ${n} live servers, found ${rt.processCount}`);
  rt.shutdown();
  await tick();
  return (after - before) / n;
}

async function fdnMillion(n: number): Promise<{ seconds: number; heapMb: number }> {
  const rt = createRuntime({ node: 'bench', incarnation: 1 });
  gc();
  const before = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) rt.spawn(idleBody);
  await rt.idle();
  const seconds = (performance.now() - t0) / 1000;
  gc();
  const heapMb = (process.memoryUsage().heapUsed - before) / 2 ** 20;
  if (rt.processCount !== n) throw new Error(`expected ${n} live processes, found ${rt.processCount}`);
  // They are live: a message to the last one is received (its receive resolves, it waits again).
  const last = rt.processes()[n - 1];
  if (last === undefined) throw new Error('no processes');
  rt.send(last, 'ping');
  await rt.idle();
  if (rt.processInfo(last)?.status !== 'waiting') throw new Error('the last process did not take its message');
  rt.shutdown();
  await tick();
  return { seconds, heapMb };
}

// ==== nact ====

async function nactPingPong(n: number): Promise<number> {
  const system = nact.start();
  let count = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  // nact's typings declare Ref<T> as an empty class, which the linter reads as `{}`.
  // eslint-disable-next-line @typescript-eslint/no-generated-empty-object-type
  const pong = nact.spawnStateless(system, (msg: nact.Ref<unknown>) => {
    nact.dispatch(msg, 'pong');
  });
  const ping = nact.spawnStateless(system, (_msg: unknown, ctx) => {
    if (++count >= n) resolveDone();
    else nact.dispatch(pong, ctx.self);
  });
  const t0 = performance.now();
  nact.dispatch(pong, ping);
  await done;
  const seconds = (performance.now() - t0) / 1000;
  nact.stop(system);
  return n / seconds;
}

async function nactFanout(receivers: number, messages: number): Promise<number> {
  const system = nact.start();
  const per = Math.floor(messages / receivers);
  let finished = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const refs = Array.from({ length: receivers }, () =>
    nact.spawn(system, (state: number | undefined, _msg: unknown) => {
      const next = (state ?? 0) + 1;
      if (next === per && ++finished === receivers) resolveDone();
      return next;
    }),
  );
  await tick();
  const t0 = performance.now();
  for (let i = 0; i < per; i++) for (const ref of refs) nact.dispatch(ref, i);
  await done;
  const seconds = (performance.now() - t0) / 1000;
  nact.stop(system);
  return (per * receivers) / seconds;
}

// ==== Plain JavaScript baseline: async functions awaiting an array queue ====

class Queue {
  items: unknown[] = [];
  head = 0;
  waiter: ((v: unknown) => void) | null = null;

  push(v: unknown): void {
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      w(v);
    } else {
      this.items.push(v);
    }
  }

  pop(): Promise<unknown> {
    if (this.head < this.items.length) {
      const v = this.items[this.head++];
      if (this.head === this.items.length) {
        this.items = [];
        this.head = 0;
      }
      return Promise.resolve(v);
    }
    return new Promise((resolve) => (this.waiter = resolve));
  }
}

async function baselinePingPong(n: number): Promise<number> {
  const a = new Queue();
  const b = new Queue();
  const pong = (async () => {
    for (;;) {
      const m = await b.pop();
      if (m === null) return;
      a.push('pong');
    }
  })();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    b.push(i);
    await a.pop();
  }
  const seconds = (performance.now() - t0) / 1000;
  b.push(null);
  await pong;
  return n / seconds;
}

async function baselineFanout(receivers: number, messages: number): Promise<number> {
  const per = Math.floor(messages / receivers);
  const queues = Array.from({ length: receivers }, () => new Queue());
  const consumers = queues.map(async (q) => {
    for (let i = 0; i < per; i++) await q.pop();
  });
  await tick();
  const t0 = performance.now();
  for (let i = 0; i < per; i++) for (const q of queues) q.push(i);
  await Promise.all(consumers);
  return (per * receivers) / ((performance.now() - t0) / 1000);
}
