// The chaos run: N node OS processes on 127.0.0.1, each behind a TCP proxy that can cut its connections,
// streaming at-least-once messages to every other node by name, while connections are cut, nodes are
// SIGKILLed and started again, and one node is frozen with SIGSTOP. Then the traffic stops, every
// node drains, and the logs are read: messages lost (between nodes alive at the end), doubled or
// reordered (within one start of a receiver), node losses nobody can explain (a nodedown of a node
// that was neither killed nor frozen, seen by a node that was not frozen itself), and how long a
// kill and a freeze took to be noticed. Every wait is bounded.
//
// Used by `chaos.test.ts` (a short run in npm test) and the `chaos` benchmark suite (a long one):
//   node --conditions=@fdn/source --import tsx packages/distribution/test/chaos/chaos.ts '{"durationMs":60000}'

import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '@fdn/core';
import type { NodeOptions } from '../../src/index.ts';
import { freePort, startProxy } from '../proxy.ts';
import type { Proxy } from '../proxy.ts';

export interface ChaosOptions {
  durationMs?: number;
  nodes?: number;
  overlay?: NonNullable<NodeOptions['overlay']>;
  seed?: number;
  /** A random node's connections are cut this often (0: never). */
  cutEveryMs?: number;
  /** SIGKILL and restart this many times (a different node each time). */
  kills?: number;
  /** SIGSTOP one node for this long (0: never). */
  stopMs?: number;
  reconnectGraceMs?: number;
  /** Each node sends one message to every other node this often. */
  intervalMs?: number;
}

export interface ChaosResult {
  options: Required<ChaosOptions>;
  sent: number;
  delivered: number;
  lost: number;
  doubled: number;
  reordered: number;
  falseDown: { observer: string; node: string; at: number; reason: string }[];
  detectKillMs: number[];
  detectStopMs: number[];
  /** From a restarted node being ready to every other node listing it. */
  rejoinMs: number[];
  cuts: number;
  faults: { t: number; what: string; node: string }[];
  unackedAtEnd: number;
}

interface Stats {
  name: string;
  incarnation: number;
  sent: Record<string, number>;
  unacked: number;
  nodes: string[];
  events: { t: number; type: string; node: string; reason?: string }[];
}

interface Member {
  name: string;
  port: number;
  proxy: Proxy;
  child: ChildProcess | null;
  logs: string[];
  call<T>(cmd: string, timeoutMs?: number): Promise<T>;
  exited: Promise<void>;
  /** Stats of its past starts (taken just before a kill, where possible). */
  past: Stats[];
}

const FIXTURE = fileURLToPath(new URL('./chaos-node.ts', import.meta.url));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const trace = (what: string): void => {
  if (process.env.FDN_CHAOS_TRACE !== undefined) console.error(`chaos ${new Date().toISOString()}: ${what}`);
};

async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`chaos: timed out waiting until ${what}`);
    await sleep(50);
  }
}

export async function runChaos(options: ChaosOptions = {}): Promise<ChaosResult> {
  const o: Required<ChaosOptions> = {
    durationMs: options.durationMs ?? 20_000,
    nodes: options.nodes ?? 5,
    overlay: options.overlay ?? 'hyparview',
    seed: options.seed ?? 1,
    cutEveryMs: options.cutEveryMs ?? 2_000,
    kills: options.kills ?? 2,
    stopMs: options.stopMs ?? 7_000,
    reconnectGraceMs: options.reconnectGraceMs ?? 2_000,
    intervalMs: options.intervalMs ?? 10,
  };
  const random = seededRandom(o.seed);
  const dir = mkdtempSync(join(tmpdir(), 'fdn-chaos-'));
  const names = Array.from({ length: o.nodes }, (_, i) => `c${String(i)}`);
  const members: Member[] = [];
  for (const name of names) {
    const port = await freePort();
    members.push({ name, port, proxy: await startProxy(port), child: null, logs: [], call: () => Promise.reject(new Error('not started')), exited: Promise.resolve(), past: [] });
  }
  const faults: ChaosResult['faults'] = [];
  const rejoinMs: number[] = [];

  const start = async (m: Member): Promise<void> => {
    const log = join(dir, `${m.name}.${String(m.logs.length)}.log`);
    m.logs.push(log);
    const config = { name: m.name, peers: names.filter((n) => n !== m.name), port: m.port, advertise: m.proxy.address, seeds: members.filter((x) => x !== m).slice(0, 2).map((x) => x.proxy.address), log, overlay: o.overlay, reconnectGraceMs: o.reconnectGraceMs, intervalMs: o.intervalMs };
    const child = fork(FIXTURE, [], { env: { ...process.env, FDN_CHAOS: JSON.stringify(config) }, execArgv: ['--conditions=@fdn/source', '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    m.child = child;
    m.exited = new Promise((resolve) => child.once('exit', () => { resolve(); }));
    child.on('error', (err) => { trace(`${m.name}: ${err.message}`); });
    const pending = new Map<number, (v: unknown) => void>();
    let next = 1;
    child.on('message', (msg: { id?: number; result?: unknown }) => {
      if (msg.id !== undefined) {
        pending.get(msg.id)?.(msg.result);
        pending.delete(msg.id);
      }
    });
    m.call = <T>(cmd: string, timeoutMs = 10_000) =>
      new Promise<T>((resolve, reject) => {
        const id = next++;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`chaos: ${m.name} did not answer '${cmd}'`));
        }, timeoutMs);
        pending.set(id, (v) => {
          clearTimeout(timer);
          resolve(v as T);
        });
        // A child just killed has no channel: the call fails (bounded), the run goes on.
        child.send({ id, cmd }, (err) => {
          if (err === null) return;
          clearTimeout(timer);
          pending.delete(id);
          reject(new Error(`chaos: ${m.name} is gone ('${cmd}')`));
        });
      });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`chaos: ${m.name} did not start`)); }, 20_000);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  };

  try {
    await Promise.all(members.map((m) => start(m)));
    await until(async () => (await Promise.all(members.map((m) => m.call<Stats>('stats')))).every((s) => s.nodes.length === o.nodes - 1), 'every node sees every other', 30_000);
    await Promise.all(members.map((m) => m.call('start')));
    const t0 = Date.now();

    // The faults, at seeded times: cuts all along; kills and the freeze spread over the middle.
    // No cuts while a node is frozen: the time to notice a freeze is measured on its own.
    let freezing = false;
    // A frozen node answers nothing: the rejoin time of another is not made to wait for it.
    let frozenNow: Member | null = null;
    const cutter = o.cutEveryMs > 0 ? setInterval(() => {
      if (freezing) return;
      const victim = members[random.int(members.length)] as Member;
      faults.push({ t: Date.now(), what: 'cut', node: victim.name });
      victim.proxy.cut();
    }, o.cutEveryMs) : null;
    const order = random.shuffle(members.slice());
    const schedule: { at: number; run: () => Promise<void> }[] = [];
    for (let k = 0; k < o.kills; k++) {
      const victim = order[k % order.length] as Member;
      schedule.push({
        at: (o.durationMs * (k + 1)) / (o.kills + 2),
        run: async () => {
          victim.past.push(await victim.call<Stats>('stats', 2_000).catch(() => ({ name: victim.name, incarnation: 0, sent: {}, unacked: 0, nodes: [], events: [] })));
          faults.push({ t: Date.now(), what: 'kill', node: victim.name });
          victim.child?.kill('SIGKILL');
          await victim.exited;
          await sleep(500);
          await start(victim);
          const ready = Date.now();
          faults.push({ t: ready, what: 'restarted', node: victim.name });
          await victim.call('start');
          // How long until every other node lists the new start (a join race shows here).
          await until(async () => (await Promise.all(members.filter((x) => x !== victim && x !== frozenNow && x.child !== null).map((x) => x.call<Stats>('stats', 2_000).catch(() => null)))).every((st) => st === null || st.nodes.includes(victim.name)), `${victim.name} rejoined`, 15_000).catch(() => undefined);
          rejoinMs.push(Date.now() - ready);
        },
      });
    }
    if (o.stopMs > 0) {
      const frozen = order[o.kills % order.length] as Member;
      schedule.push({
        at: o.durationMs * 0.5,
        run: async () => {
          freezing = true;
          faults.push({ t: Date.now(), what: 'stop', node: frozen.name });
          frozenNow = frozen;
          frozen.child?.kill('SIGSTOP');
          await sleep(o.stopMs);
          frozen.child?.kill('SIGCONT');
          frozenNow = null;
          faults.push({ t: Date.now(), what: 'cont', node: frozen.name });
          await sleep(1_000);
          freezing = false;
        },
      });
    }
    if (process.env.FDN_CHAOS_TRACE !== undefined) console.error('chaos: traffic on');
    await Promise.all(schedule.map(async (f) => {
      await sleep(f.at);
      trace(`fault at ${String(f.at)}`);
      await f.run();
      trace(`fault at ${String(f.at)} done`);
    }));
    trace('faults done');
    await sleep(Math.max(0, o.durationMs - (Date.now() - t0)));
    if (cutter !== null) clearInterval(cutter);

    // Quiet: no new messages, everything acknowledged (bounded), then the logs are read.
    trace('quiet');
    await Promise.all(members.map((m) => m.call('quiet')));
    let last: Stats[] = [];
    await until(async () => {
      last = await Promise.all(members.map((m) => m.call<Stats>('stats')));
      return last.every((s) => s.unacked === 0);
    }, 'every node has its messages acknowledged', 30_000).catch(() => undefined);
    trace('drained');
    return { ...analyse(o, members, last, faults), rejoinMs };
  } finally {
    for (const m of members) {
      m.child?.kill('SIGKILL');
      await m.proxy.close();
    }
    await Promise.all(members.map((m) => m.exited));
    rmSync(dir, { recursive: true, force: true });
  }
}

function analyse(o: Required<ChaosOptions>, members: Member[], last: Stats[], faults: ChaosResult['faults']): Omit<ChaosResult, 'rejoinMs'> {
  let doubled = 0;
  let reordered = 0;
  let delivered = 0;
  /** receiver → `from inc` → seqs received by any of its starts. */
  const received = new Map<string, Map<string, Set<number>>>();
  for (const m of members) {
    const union = new Map<string, Set<number>>();
    received.set(m.name, union);
    for (const log of m.logs) {
      let text: string;
      try {
        text = readFileSync(log, 'utf8');
      } catch {
        continue;
      }
      const lastSeq = new Map<string, number>();
      const seen = new Set<string>();
      for (const line of text.split('\n')) {
        if (line === '') continue;
        delivered++;
        const [from, inc, seqText] = line.split(' ') as [string, string, string];
        const key = `${from} ${inc}`;
        const seq = Number(seqText);
        if (seen.has(`${key} ${seqText}`)) doubled++;
        seen.add(`${key} ${seqText}`);
        const before = lastSeq.get(key);
        if (before !== undefined && seq < before) reordered++;
        lastSeq.set(key, seq);
        let set = union.get(key);
        if (set === undefined) union.set(key, (set = new Set()));
        set.add(seq);
      }
    }
  }
  // Lost: what a sender alive at the end sent to each peer, not found in any start of that peer.
  let lost = 0;
  let sent = 0;
  for (const s of last) {
    for (const [peer, count] of Object.entries(s.sent)) {
      sent += count;
      const got = received.get(peer)?.get(`${s.name} ${String(s.incarnation)}`) ?? new Set<number>();
      for (let i = 0; i < count; i++) if (!got.has(i)) lost++;
    }
  }
  // Node losses: explained by a kill or a freeze of that node (or of the observer), within 15 s;
  // without a reconnect grace, by a cut of either one's connections too, within 3 s (Erlang's nodedown).
  const explains = (node: string, t: number): boolean =>
    faults.some(
      (f) =>
        f.node === node &&
        (((f.what === 'kill' || f.what === 'stop') && t >= f.t - 100 && t <= (faults.find((g) => g.node === node && (g.what === 'restarted' || g.what === 'cont') && g.t >= f.t)?.t ?? f.t) + 15_000) ||
          (f.what === 'cut' && o.reconnectGraceMs === 0 && t >= f.t - 100 && t <= f.t + 3_000)),
    );
  const falseDown: ChaosResult['falseDown'] = [];
  const detectKillMs: number[] = [];
  const detectStopMs: number[] = [];
  const allStats = [...last, ...members.flatMap((m) => m.past)];
  for (const s of allStats) {
    for (const e of s.events) {
      if (e.type !== 'nodedown') continue;
      if (!explains(e.node, e.t) && !explains(s.name, e.t)) falseDown.push({ observer: s.name, node: e.node, at: e.t, reason: e.reason ?? '' });
    }
  }
  for (const f of faults) {
    if (f.what !== 'kill' && f.what !== 'stop') continue;
    const firsts = allStats.flatMap((s) => s.events.filter((e) => e.type === 'nodedown' && e.node === f.node && e.t >= f.t).map((e) => e.t - f.t)).sort((x, y) => x - y);
    if (firsts.length > 0) (f.what === 'kill' ? detectKillMs : detectStopMs).push(firsts[0] as number);
  }
  return { options: o, sent, delivered, lost, doubled, reordered, falseDown, detectKillMs, detectStopMs, cuts: members.reduce((n, m) => n + m.proxy.cuts, 0), faults, unackedAtEnd: last.reduce((n, s) => n + s.unacked, 0) };
}

// As a script: run with the options given as JSON, print the result as JSON.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const options = JSON.parse(process.argv[2] ?? '{}') as ChaosOptions;
  // A run that hangs is a failed run: bounded whatever happens.
  setTimeout(() => {
    console.error('chaos: the run did not finish in time');
    process.exit(2);
  }, (options.durationMs ?? 20_000) + 180_000).unref();
  const result = await runChaos(options);
  console.log(JSON.stringify(result));
  process.exit(0);
}
