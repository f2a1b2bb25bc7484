// OTP's child shutdown: unlink (flushing an EXIT already queued), monitor, exit `shutdown`,
// wait up to the child's shutdown time, then `kill`.

import { DownMessageImpl, ExitMessageImpl } from '../exit/reason.ts';
import type { ExitReason } from '../exit/reason.ts';
import type { Pid } from '../pid/pid.ts';
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
