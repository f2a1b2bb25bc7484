// OTP's child shutdown: unlink (flushing an EXIT already queued), monitor, exit `shutdown`,
// wait up to the child's shutdown time, then `kill`.

import { DownMessageImpl, ExitMessageImpl } from '../exit/reason.ts';
import type { ExitReason } from '../exit/reason.ts';
import type { Pid, Ref } from '../pid/pid.ts';
import type { Process } from '../process/process.ts';
import { TIMEOUT } from '../process/types.ts';
import type { Shutdown } from './types.ts';

/** @internal Stops `pid` per `shutdown` and resolves with the reason it exited with. */
export async function shutdownChild(ctx: Process, pid: Pid, shutdown: Shutdown): Promise<ExitReason> {
  ctx.unlink(pid);
  // A child that died before the unlink left an EXIT in the mailbox: its reason is the real one.
  let early: { reason: ExitReason } | undefined;
  ctx.removeMatching((m) => {
    if (m instanceof ExitMessageImpl && m.from.equals(pid)) {
      early = { reason: m.reason };
      return true;
    }
    return false;
  });
  const mark = ctx.queueLength;
  const ref = ctx.monitor(pid);
  const isDown = (m: unknown): boolean => m instanceof DownMessageImpl && m.ref === ref;
  ctx.exit(pid, shutdown === 'brutal_kill' ? 'kill' : 'shutdown');
  let msg = await ctx.receiveFrom(mark, isDown, typeof shutdown === 'number' ? shutdown : undefined);
  if (msg === TIMEOUT) {
    ctx.exit(pid, 'kill');
    msg = await ctx.receiveFrom(mark, isDown);
  }
  return early === undefined ? (msg as DownMessageImpl).reason : early.reason;
}

/**
 * @internal Stops several children at once (a simpleOneForOne supervisor's, as OTP does): every
 * one gets its exit signal, then one receive loop waits for all of them (a process has one
 * receive at a time), killing those still alive when `shutdown` runs out. Resolves with each
 * child's exit reason, in the order given.
 */
export async function shutdownChildren(ctx: Process, pids: readonly Pid[], shutdown: Shutdown): Promise<ExitReason[]> {
  const reasons = new Array<ExitReason>(pids.length);
  const known = new Array<boolean>(pids.length).fill(false);
  const waiting = new Map<Ref, number>();
  const mark = ctx.queueLength;
  pids.forEach((pid, i) => {
    ctx.unlink(pid);
    let early: { reason: ExitReason } | undefined;
    ctx.removeMatching((m) => {
      if (m instanceof ExitMessageImpl && m.from.equals(pid)) {
        early = { reason: m.reason };
        return true;
      }
      return false;
    });
    if (early !== undefined) {
      reasons[i] = early.reason;
      known[i] = true;
    }
    waiting.set(ctx.monitor(pid), i);
    ctx.exit(pid, shutdown === 'brutal_kill' ? 'kill' : 'shutdown');
  });
  const isDown = (m: unknown): boolean => m instanceof DownMessageImpl && waiting.has(m.ref);
  const deadline = typeof shutdown === 'number' ? ctx.rt.clock.now() + shutdown : Number.POSITIVE_INFINITY;
  let killed = false;
  while (waiting.size > 0) {
    const left = deadline - ctx.rt.clock.now();
    const msg = await ctx.receiveFrom(mark, isDown, killed || left === Number.POSITIVE_INFINITY ? undefined : Math.max(0, left));
    if (msg === TIMEOUT) {
      for (const i of waiting.values()) ctx.exit(pids[i] as Pid, 'kill');
      killed = true;
      continue;
    }
    const down = msg as DownMessageImpl;
    const i = waiting.get(down.ref) as number;
    waiting.delete(down.ref);
    if (!known[i]) reasons[i] = down.reason;
  }
  return reasons;
}
