// Property-based tests: random spawn/link/monitor/exit sequences against a reference model of
// Erlang's rules; restart intensity against its definition; selective receive against a list model.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GenServer, Supervisor, TIMEOUT, isDownMessage, isExitMessage } from '../src/index.ts';
import type { Pid, ProcessContext, Ref } from '../src/index.ts';
import { testRuntime } from './helpers.ts';

// ==== Links, monitors and exit signals ====

type Reason = 'normal' | 'kill' | 'shutdown' | 'boom';
type Command =
  | { op: 'spawn'; trap: boolean }
  | { op: 'link'; a: number; b: number }
  | { op: 'unlink'; a: number; b: number }
  | { op: 'monitor'; a: number; b: number }
  | { op: 'demonitor'; a: number; k: number }
  | { op: 'exit'; a: number; reason: Reason }
  | { op: 'crash'; a: number }
  | { op: 'finish'; a: number };

const MAX_PROCS = 7;
const idx = fc.nat({ max: MAX_PROCS - 1 });
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant('spawn' as const), trap: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('link' as const), a: idx, b: idx }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unlink' as const), a: idx, b: idx }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('monitor' as const), a: idx, b: idx }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('demonitor' as const), a: idx, k: fc.nat({ max: 20 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('exit' as const), a: idx, reason: fc.constantFrom<Reason>('normal', 'kill', 'shutdown', 'boom') }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('crash' as const), a: idx }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('finish' as const), a: idx }) },
);

/** A system message as recorded: EXIT from process i (or 'sys'), or DOWN of monitor k. */
type Seen = string;

/** Reference model of the semantics (processes by index; monitors by creation index). */
class Model {
  alive: boolean[] = [];
  trap: boolean[] = [];
  links: Set<number>[] = [];
  /** monitor k: watcher, target, active */
  monitors: { watcher: number; target: number; active: boolean }[] = [];
  seen: Seen[][] = [];

  spawn(trap: boolean): void {
    this.alive.push(true);
    this.trap.push(trap);
    this.links.push(new Set());
    this.seen.push([]);
  }

  apply(c: Command): void {
    switch (c.op) {
      case 'spawn':
        this.spawn(c.trap);
        return;
      case 'link':
        if (!this.alive[c.a] || c.a === c.b) return;
        if (!this.alive[c.b]) {
          this.#signal(c.a, String(c.b), 'noproc', false);
          return;
        }
        this.links[c.a]?.add(c.b);
        this.links[c.b]?.add(c.a);
        return;
      case 'unlink':
        if (!this.alive[c.a]) return;
        this.links[c.a]?.delete(c.b);
        this.links[c.b]?.delete(c.a);
        return;
      case 'monitor': {
        if (!this.alive[c.a]) return;
        const k = this.monitors.length;
        const active = this.alive[c.b] === true;
        this.monitors.push({ watcher: c.a, target: c.b, active });
        if (!active) this.seen[c.a]?.push(`DOWN ${k} noproc`);
        return;
      }
      case 'demonitor': {
        const m = this.monitors[c.k];
        if (!this.alive[c.a] || m?.watcher !== c.a) return;
        m.active = false;
        return;
      }
      case 'exit':
        if (!this.alive[c.a]) return;
        this.#signal(c.a, 'sys', c.reason, c.reason === 'kill');
        return;
      case 'crash':
        if (this.alive[c.a]) this.#die(c.a, 'boom');
        return;
      case 'finish':
        if (this.alive[c.a]) this.#die(c.a, 'normal');
        return;
    }
  }

  #signal(to: number, from: string, reason: string, untrappable: boolean): void {
    if (!this.alive[to]) return;
    if (untrappable) this.#die(to, 'killed');
    else if (this.trap[to]) this.seen[to]?.push(`EXIT ${from} ${reason}`);
    else if (reason !== 'normal') this.#die(to, reason);
  }

  #die(first: number, firstReason: string): void {
    const work: [number, string][] = [];
    const mark = (p: number, r: string): void => {
      this.alive[p] = false;
      work.push([p, r]);
    };
    mark(first, firstReason);
    // A worklist: for-of also visits entries appended while iterating.
    for (const [p, r] of work) {
      for (const l of this.links[p] ?? []) {
        this.links[l]?.delete(p);
        if (!this.alive[l]) continue;
        if (this.trap[l]) this.seen[l]?.push(`EXIT ${p} ${r}`);
        else if (r !== 'normal') mark(l, r);
      }
      this.links[p]?.clear();
      this.monitors.forEach((m, k) => {
        if (!m.active) return;
        if (m.target === p) {
          m.active = false;
          if (this.alive[m.watcher]) this.seen[m.watcher]?.push(`DOWN ${k} ${r}`);
        } else if (m.watcher === p) {
          m.active = false;
        }
      });
    }
  }
}

type Order =
  | { op: 'link' | 'unlink' | 'monitor'; target: Pid }
  | { op: 'demonitor'; ref: Ref }
  | { op: 'crash' | 'finish' };

function normReason(r: unknown): string {
  return r instanceof Error ? r.message : String(r);
}

describe('property: links, monitors and exit signals follow the model', () => {
  it('random spawn/link/monitor/exit/kill sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40 }), async (commands) => {
        const { rt } = testRuntime();
        const model = new Model();
        const pids: Pid[] = [];
        const seen: Seen[][] = [];
        const refs: Ref[] = [];
        const refIndex = new Map<Ref, number>();
        const indexOf = (pid: Pid): string => {
          const i = pids.findIndex((p) => p.equals(pid));
          return i < 0 ? 'sys' : String(i);
        };
        const body = (me: number) => async (ctx: ProcessContext) => {
          for (;;) {
            const m = await ctx.receive();
            if (isExitMessage(m)) seen[me]?.push(`EXIT ${indexOf((m).from)} ${normReason((m).reason)}`);
            else if (isDownMessage(m)) seen[me]?.push(`DOWN ${String(refIndex.get((m).ref))} ${normReason((m).reason)}`);
            else {
              const o = m as Order;
              if (o.op === 'link') ctx.link(o.target);
              else if (o.op === 'unlink') ctx.unlink(o.target);
              else if (o.op === 'monitor') {
                const ref = ctx.monitor(o.target);
                refIndex.set(ref, refs.length);
                refs.push(ref);
              } else if (o.op === 'demonitor') ctx.demonitor(o.ref);
              else if (o.op === 'crash') throw new Error('boom');
              else return;
            }
          }
        };
        const spawn = (trap: boolean): void => {
          const me = pids.length;
          seen.push([]);
          pids.push(rt.spawn(body(me), { trapExit: trap }));
          model.spawn(trap);
        };
        spawn(false);
        spawn(true);
        await rt.idle();
        for (const c of commands) {
          if (c.op === 'spawn') {
            if (pids.length < MAX_PROCS) spawn(c.trap);
          } else {
            const a = pids[c.a];
            if (a === undefined) continue;
            if (c.op === 'exit') rt.exit(a, c.reason);
            else if (c.op === 'crash' || c.op === 'finish') rt.send(a, { op: c.op });
            else if (c.op === 'demonitor') {
              const ref = refs[c.k];
              if (ref === undefined) continue;
              rt.send(a, { op: 'demonitor', ref });
            } else {
              const b = pids[c.b];
              if (b === undefined) continue;
              rt.send(a, { op: c.op, target: b });
            }
            model.apply(c);
          }
          await rt.idle();
          // The alive set matches the model after every step.
          expect(pids.map((p) => rt.isAlive(p))).toEqual(model.alive);
          // No orphaned links or monitors: every link is mutual, every monitor is known to its target.
          for (const p of pids) {
            const info = rt.processInfo(p);
            if (info === undefined) continue;
            for (const l of info.links) expect(rt.processInfo(l)?.links).toContainEqual(p);
            for (const m of info.monitors) expect(rt.processInfo(m.pid)?.monitoredBy).toContainEqual(p);
          }
        }
        // Every EXIT and DOWN arrived exactly as the model says (each DOWN exactly once).
        expect(seen.map((s) => [...s].sort())).toEqual(model.seen.map((s) => [...s].sort()));
        rt.shutdown();
      }),
      { numRuns: 150 },
    );
  });
});

// ==== Restart intensity ====

describe('property: restart intensity', () => {
  it('a child failing faster than the intensity takes the supervisor down; slower never does', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 3 }),
        fc.integer({ min: 100, max: 5_000 }),
        // 'period' stands for a gap of exactly periodMs: the boundary case.
        fc.array(fc.oneof(fc.integer({ min: 0, max: 6_000 }), fc.constant('period' as const)), { minLength: 1, maxLength: 8 }),
        async (intensity, periodMs, rawGaps) => {
          const gaps = rawGaps.map((g) => (g === 'period' ? periodMs : g));
          const { rt, clock } = testRuntime();
          const worker = {
            init: () => ({ type: 'ok' as const, state: null }),
            handleCast: (): never => {
              throw new Error('crash');
            },
          };
          const sup = await Supervisor.start(rt, {
            intensity,
            periodMs,
            children: [{ id: 'w', start: (ctx: ProcessContext) => GenServer.startLink(ctx, worker, undefined) }],
          });
          // Definition: the k-th crash takes it down when more than `intensity` crashes fall in (t - period, t].
          const times: number[] = [];
          let expectedDownAt = -1;
          let t = 0;
          for (let k = 0; k < gaps.length; k++) {
            t += gaps[k] as number;
            times.push(t);
            const inWindow = times.filter((x) => x > t - periodMs).length;
            if (inWindow > intensity) {
              expectedDownAt = k;
              break;
            }
          }
          for (let k = 0; k < gaps.length; k++) {
            await clock.advance(gaps[k] as number);
            const [child] = await Supervisor.whichChildren(rt, sup);
            GenServer.cast(rt, child?.pid as Pid, 'crash');
            await rt.idle();
            expect(rt.isAlive(sup)).toBe(expectedDownAt === -1 || k < expectedDownAt);
            if (!rt.isAlive(sup)) break;
          }
          rt.shutdown();
        },
      ),
      { numRuns: 150 },
    );
  });
});

// ==== Selective receive ====

describe('property: selective receive', () => {
  type Step = { kind: 'send'; tag: number } | { kind: 'receive'; tag: number | null };
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ kind: fc.constant('send' as const), tag: fc.nat({ max: 3 }) }),
    fc.record({ kind: fc.constant('receive' as const), tag: fc.option(fc.nat({ max: 3 }), { nil: null }) }),
  );

  it('takes the oldest matching message and keeps the rest in order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
        const { rt } = testRuntime();
        // Model: a list; receive takes the first match or times out (timeout 0).
        const queue: { tag: number; seq: number }[] = [];
        const expected: unknown[] = [];
        let seq = 0;
        for (const s of steps) {
          if (s.kind === 'send') queue.push({ tag: s.tag, seq: seq++ });
          else {
            const i = queue.findIndex((m) => s.tag === null || m.tag === s.tag);
            expected.push(i < 0 ? 'timeout' : (queue.splice(i, 1)[0] as { seq: number }).seq);
          }
        }
        const got = await rt.run(async (ctx) => {
          const out: unknown[] = [];
          let n = 0;
          for (const s of steps) {
            if (s.kind === 'send') ctx.send(ctx.self, { tag: s.tag, seq: n++ });
            else {
              const tag = s.tag;
              const m = await ctx.receive(tag === null ? null : (x) => (x as { tag: number }).tag === tag, 0);
              out.push(m === TIMEOUT ? 'timeout' : (m as { seq: number }).seq);
            }
          }
          return out;
        });
        expect(got).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('a waiting receive is woken by the first matching message that arrives, in arrival order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 30 }), fc.nat({ max: 3 }), async (tags, wanted) => {
        const { rt } = testRuntime();
        const result: unknown[] = [];
        const pid = rt.spawn(async (ctx) => {
          const first = await ctx.receive((m) => (m as { tag: number }).tag === wanted, 1_000);
          result.push(first === TIMEOUT ? 'timeout' : (first as { seq: number }).seq);
          for (;;) {
            const m = await ctx.receive(null, 0);
            if (m === TIMEOUT) return;
            result.push((m as { seq: number }).seq);
          }
        });
        await rt.idle();
        tags.forEach((tag, seq) => {
          rt.send(pid, { tag, seq });
        });
        await rt.idle();
        const firstMatch = tags.indexOf(wanted);
        if (firstMatch < 0) {
          expect(result).toEqual([]);
          rt.shutdown();
          return;
        }
        const rest = tags.map((_t, i) => i).filter((i) => i !== firstMatch);
        expect(result).toEqual([firstMatch, ...rest]);
      }),
      { numRuns: 300 },
    );
  });
});
