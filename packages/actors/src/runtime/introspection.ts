// processInfo: what a live process is doing, for debugging and dashboards.

import type { Pid, Ref } from '../pid/pid.ts';
import type { Process } from '../process/process.ts';

/** A snapshot of one live process (Erlang's `process_info/1`). */
export interface ProcessInfo {
  pid: Pid;
  /**
   * `runnable`: in the run queue; `waiting`: blocked in receive (or idle, for a behaviour);
   * `running`: executing or awaiting something other than its mailbox; `starting`: not yet run.
   */
  status: 'starting' | 'runnable' | 'waiting' | 'running';
  /** Messages in the mailbox. */
  messageQueueLen: number;
  /** Work done so far: one per message handled, start and resumption after a receive (Erlang's `reductions`, counted coarser). */
  reductions: number;
  /** Messages dropped by a bounded mailbox. */
  dropped: number;
  /** The mailbox bound, or undefined when unbounded. */
  maxMailbox: number | undefined;
  links: Pid[];
  /** Monitors this process holds: reference and target. */
  monitors: { ref: Ref; pid: Pid }[];
  /** Processes monitoring this one. */
  monitoredBy: Pid[];
  registeredName: string | undefined;
  trapExit: boolean;
  /** The behaviour (`GenServer`, `Supervisor`, `StateMachine`) or spawn label, if any. */
  behaviour: string | undefined;
  /** The process that spawned it, if any. */
  parent: Pid | undefined;
  /** Groups it belongs to. */
  groups: string[];
  /**
   * Estimated bytes held by the process: a measured base cost (see the `local` benchmark's
   * `fdn.bytes_per_idle_process`) plus its mailbox, links and monitors. An estimate, not a heap walk.
   */
  memory: number;
  /** What the behaviour reports about itself (for example a GenServer's state summary). */
  details: Record<string, unknown> | undefined;
}

/**
 * Base bytes of an idle process, from the `local` benchmark's heap measurements
 * (`fdn.bytes_per_idle_process`, `fdn.bytes_per_idle_genserver`): an async-function process
 * carries V8's suspended function and pending promise; a behaviour process does not.
 */
export const IDLE_ASYNC_PROCESS_BYTES = 1_050;
export const IDLE_BEHAVIOUR_PROCESS_BYTES = 470;
const PER_QUEUED_MESSAGE = 16;
const PER_LINK_OR_MONITOR = 64;

/** @internal */
export function describeProcess(p: Process): ProcessInfo {
  const ext = p.extras;
  let status: ProcessInfo['status'];
  if (!p.started) status = 'starting';
  else if (p.queued) status = 'runnable';
  else if (p.waitResolve !== null || (p.loop !== null && !p.busy)) status = 'waiting';
  else status = 'running';
  const links = p.links === null ? [] : [...p.links];
  const monitors = p.watching === null ? [] : [...p.watching].map(([ref, pid]) => ({ ref, pid }));
  const monitoredBy = p.monitors === null ? [] : [...p.monitors.values()];
  const queue = p.queueLength;
  let details: Record<string, unknown> | undefined;
  if (p.loop?.describe !== undefined) {
    try {
      details = p.loop.describe();
    } catch (err) {
      details = { error: String(err) };
    }
  }
  return {
    pid: p.self,
    status,
    messageQueueLen: queue,
    reductions: p.reductions,
    dropped: ext?.dropped ?? 0,
    maxMailbox: ext !== null && ext.maxMailbox > 0 ? ext.maxMailbox : undefined,
    links,
    monitors,
    monitoredBy,
    registeredName: ext?.name ?? undefined,
    trapExit: p.trapping,
    behaviour: ext?.label ?? undefined,
    parent: ext?.parent ?? undefined,
    groups: ext?.groups == null ? [] : [...ext.groups.keys()],
    memory: (p.isLoop ? IDLE_BEHAVIOUR_PROCESS_BYTES : IDLE_ASYNC_PROCESS_BYTES) + queue * PER_QUEUED_MESSAGE + (links.length + monitors.length + monitoredBy.length) * PER_LINK_OR_MONITOR,
    details,
  };
}
