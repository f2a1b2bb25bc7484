// Exit reasons and the system messages (EXIT, DOWN) that carry them, with OTP's meanings.

import type { Pid, Ref, RemoteName } from '../pid/pid.ts';
import { toJson } from '../util/inspect.ts';

/**
 * Why a process exited. Any value is allowed (as in Erlang); these have meanings:
 * - `'normal'`: finished; does not kill linked processes that do not trap exits.
 * - `'shutdown'` and `{ shutdown: term }`: orderly stop requested by a supervisor; not a crash.
 * - `'kill'`: sent with `exit(pid, 'kill')`, untrappable; the target exits with `'killed'`.
 * - `'noproc'`: the process did not exist (monitor or link of a dead pid).
 * - `'noconnection'`: its node was lost.
 * - an `Error`: the process crashed; the error keeps its stack.
 */
// Any term is a valid reason, so the type is `unknown`; the list above is what the runtime itself uses.
export type ExitReason = unknown;

/** `{ shutdown: term }`: an orderly stop that carries detail. */
export interface ShutdownReason {
  readonly shutdown: unknown;
}

/**
 * True for the reasons that are not crashes: `normal`, `shutdown` and `{ shutdown: term }`.
 * Supervisors do not restart `transient` children that exit this way, and GenServer writes no
 * crash report for them.
 */
export function isNormalExit(reason: unknown): boolean {
  return reason === 'normal' || reason === 'shutdown' || isShutdownReason(reason);
}

/** True for `{ shutdown: term }`. */
export function isShutdownReason(reason: unknown): reason is ShutdownReason {
  return typeof reason === 'object' && reason !== null && 'shutdown' in reason && Object.keys(reason).length === 1;
}

/** A readable one-line form of a reason, for logs and error messages. */
export function formatReason(reason: unknown): string {
  if (reason instanceof Error) return `${reason.name}: ${reason.message}`;
  if (typeof reason === 'string') return reason;
  try {
    return toJson(reason) ?? String(reason);
  } catch {
    return String(reason);
  }
}

/**
 * The message a process that traps exits receives instead of dying from an exit signal
 * (Erlang's `{'EXIT', From, Reason}`).
 */
export interface ExitMessage {
  readonly type: 'EXIT';
  readonly from: Pid;
  readonly reason: ExitReason;
}

/** The message a monitor delivers, exactly once, when the monitored process exits. */
export interface DownMessage {
  readonly type: 'DOWN';
  readonly ref: Ref;
  /**
   * What was monitored, as it was given to `monitor`: the pid, or `{ name, node }` for a monitor
   * by registered name (Erlang's `{'DOWN', Ref, process, {Name, Node}, Reason}`).
   */
  readonly target: Pid | RemoteName;
  /**
   * The process that went down: the monitored pid; for a monitor by name, the pid the name stood
   * for. When nobody held the name (`noproc`) or its node was never reached, no process went down:
   * then it is the pid with id 0 of that node, which is never a process (test `target`).
   */
  readonly pid: Pid;
  readonly reason: ExitReason;
}

/** True when `msg` is an {@link ExitMessage}, optionally from `from`. */
export function isExitMessage(msg: unknown, from?: Pid): msg is ExitMessage {
  return msg instanceof ExitMessageImpl && (from === undefined || msg.from.equals(from));
}

/** True when `msg` is a {@link DownMessage}, optionally for monitor `ref`. */
export function isDownMessage(msg: unknown, ref?: Ref): msg is DownMessage {
  return msg instanceof DownMessageImpl && (ref === undefined || msg.ref.equals(ref));
}

/** The classes behind the two system messages: `instanceof` keeps user look-alikes out (a wire class: exported by `@fdn/actors/internal` for the distribution layer's codec, not for applications). */
export class ExitMessageImpl implements ExitMessage {
  readonly type = 'EXIT' as const;
  constructor(
    readonly from: Pid,
    readonly reason: ExitReason,
  ) {}
}

/** A DOWN message (a wire class: exported by `@fdn/actors/internal` for the distribution layer's codec, not for applications). */
export class DownMessageImpl implements DownMessage {
  readonly type = 'DOWN' as const;
  constructor(
    readonly ref: Ref,
    readonly target: Pid | RemoteName,
    readonly pid: Pid,
    readonly reason: ExitReason,
  ) {}
}
