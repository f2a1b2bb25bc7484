// The public face of a process: the context its body receives, and the options it is spawned with.

import type { ExitReason } from '../exit/reason.ts';
import type { Pid, Ref, RemoteName } from '../pid/pid.ts';

/**
 * What `receive` resolves with when its timeout passes before a matching message arrives
 * (Erlang's `after` clause).
 */
export const TIMEOUT: unique symbol = Symbol.for('fdn.timeout');
/** The type of {@link TIMEOUT}. */
export type Timeout = typeof TIMEOUT;

/**
 * Selects messages in `receive`: messages for which it returns false stay in the mailbox, in
 * order. Use a type guard to narrow: `(m): m is Pong => isPong(m)`. A matcher that throws
 * crashes the receiving process with that error.
 */
export type Matcher<T = unknown> = ((msg: unknown) => msg is T) | ((msg: unknown) => boolean);

/** A process body: an async function run in its own process; its return ends the process normally. */
export type ProcessBody = (ctx: ProcessContext) => unknown;

/** A process group name (local groups; cluster groups come with @fdn/distribution). */
export type GroupName = string;

/**
 * Where a message goes: a pid, the name of a locally registered process, a name registered on
 * another node (`{ name, node }`), or a name in the cluster registry (`{ global: name }`).
 */
export type Dest = Pid | string | RemoteName | GlobalName;

/** A process registered in the cluster registry (OTP's `{global, Name}`), resolved by the distribution layer. */
export interface GlobalName {
  readonly global: string;
}

/** True when `dest` names a process in the cluster registry. */
export function isGlobalName(dest: unknown): dest is GlobalName {
  return typeof dest === 'object' && dest !== null && typeof (dest as { global?: unknown }).global === 'string';
}


/**
 * What a bounded mailbox does when full:
 * - `dropNewest`: the arriving message is dropped (the sender is not told, as with any send);
 * - `dropOldest`: the oldest queued message is dropped to make room;
 * - `exit`: the process exits with an `FDN_ERR_MAILBOX_OVERFLOW` error.
 * Dropped messages are counted in `processInfo(pid).dropped`.
 */
export type OverflowPolicy = 'dropNewest' | 'dropOldest' | 'exit';

/** Options for `spawn`. */
export interface SpawnOptions {
  /** Register the new process under this name (atomically with the spawn). */
  name?: string;
  /** Start with exit trapping on. */
  trapExit?: boolean;
  /** Bound the mailbox to this many messages (default: unbounded). */
  maxMailbox?: number;
  /** What happens when the bound is reached (default `dropNewest`). */
  overflow?: OverflowPolicy;
  /** A label shown by `processInfo` (behaviours set their own, e.g. `GenServer`). */
  label?: string;
}

/** What a `startTimer` timer delivers (Erlang's `{timeout, TimerRef, Msg}`). */
export interface TimeoutMessage {
  type: 'timeout';
  ref: TimerRef;
  msg: unknown;
}

/** What `cancelTimer(timer, { async: true })` sends the caller (Erlang's `{cancel_timer, TimerRef, Result}`). */
export interface CancelTimerMessage {
  type: 'cancel_timer';
  ref: TimerRef;
  /** The whole milliseconds that were left, or false (as `cancelTimer`'s answer). */
  result: number | false;
}

/** A pending `sendAfter` or `startTimer` timer; pass it to `cancelTimer` or `readTimer`. */
export interface TimerRef {
  /** When the message is due, on the runtime clock. */
  readonly dueAt: number;
}

/**
 * What a process body receives: its identity and Erlang's process primitives. Calls on a
 * context whose process has exited are no-ops, and its `receive` never resolves, so code
 * still running in a killed process stops at its next `await ctx.receive()`.
 */
export interface ProcessContext {
  /** This process's pid. */
  readonly self: Pid;
  /** This node's name. */
  readonly node: string;

  /**
   * Sends `msg` to `dest`. Sending to a dead pid is a silent no-op, as in Erlang; sending to
   * a local name that nobody holds throws `FDN_ERR_NOT_REGISTERED` (Erlang's `badarg`).
   * Messages from one process to another arrive in the order they were sent.
   */
  send(dest: Dest, msg: unknown): void;

  /**
   * Erlang's selective receive. Resolves with the oldest message that `match` accepts (any
   * message when omitted); the messages it skips stay in the mailbox, in order. With
   * `timeoutMs`, resolves with {@link TIMEOUT} if nothing matches in time (`0` only checks the
   * mailbox). One receive at a time per process.
   *
   * @example
   * const reply = await ctx.receive((m): m is Pong => m instanceof Pong, 1000);
   * if (reply === TIMEOUT) ctx.exit('no_pong');
   */
  receive<T>(match: (msg: unknown) => msg is T): Promise<T>;
  receive<T>(match: (msg: unknown) => msg is T, timeoutMs: number): Promise<T | Timeout>;
  receive(match?: Matcher | null, timeoutMs?: number): Promise<unknown>;

  /** Starts a new process running `body`; returns its pid at once. */
  spawn(body: ProcessBody, options?: SpawnOptions): Pid;
  /** As `spawn`, linked to the caller before the child runs. */
  spawnLink(body: ProcessBody, options?: SpawnOptions): Pid;
  /** As `spawn`, monitored by the caller: returns the pid and the monitor reference. */
  spawnMonitor(body: ProcessBody, options?: SpawnOptions): [Pid, Ref];

  /**
   * Links the caller and `pid` (bidirectional): when either exits abnormally the other gets
   * an exit signal. A dead `pid`, as Erlang's `link/1`: on this node, a caller that does not
   * trap exits gets a catchable `FDN_ERR_NOPROC` error thrown here, and a trapping one an
   * `EXIT` message with reason `noproc`; on another node (which only that node can check), the
   * call returns and an exit signal `noproc` follows.
   */
  link(pid: Pid): void;
  /** Removes a link; harmless when there is none. */
  unlink(pid: Pid): void;
  /**
   * Monitors a process, or the process registered as `name` on `node` (Erlang's
   * `monitor(process, {Name, Node})`; resolved on that node). Exactly one `DOWN` message with the
   * exit reason arrives when it exits; a dead or unknown target gives `DOWN` with reason
   * `noproc` at once, a lost node `noconnection`.
   */
  monitor(target: Pid | RemoteName): Ref;
  /**
   * Removes a monitor; returns true, as Erlang's `demonitor/2` (harmless when it is not active).
   * With `flush`, a `DOWN` for it already in the mailbox is removed too. With `info`, the answer
   * says whether the monitor was active (true), or was not: it fired already, or never existed
   * (false), as `demonitor(Ref, [info])`.
   */
  demonitor(ref: Ref, options?: { flush?: boolean; info?: boolean }): boolean;

  /** Exits the calling process with `reason` (unwinds the body by throwing; do not catch it). */
  exit(reason: ExitReason): never;
  /**
   * Sends an exit signal to `pid`. `kill` cannot be trapped (the target exits `killed`);
   * `normal` is ignored by a target that does not trap exits; a trapping target receives an
   * `EXIT` message instead of exiting.
   */
  exit(pid: Pid, reason: ExitReason): void;
  /** Sets exit trapping when `flag` is given; returns the previous setting. */
  trapExit(flag?: boolean): boolean;
  /** True when the local process `pid` is alive. */
  isAlive(pid: Pid): boolean;
  /** A new unique reference. */
  makeRef(): Ref;

  /**
   * Registers `pid` (default: this process), a live process of this node, under `name`, as
   * Erlang's `register/2`. Every refusal is `FDN_ERR_BADARG` (as OTP's `badarg`), its message and
   * `reason.badarg` saying which: `'noproc'` (not a live local process), `'already_registered'`
   * (the process has a name), `'name_taken'` (someone holds the name), `'reserved_name'`
   * (`'undefined'`), `'bad_name'` (not a non-empty string).
   */
  register(name: string, pid?: Pid): void;
  /** Frees `name`. */
  unregister(name: string): void;
  /** The pid registered under `name`, if any. */
  whereis(name: string): Pid | undefined;

  /** Joins a local process group (a process may join several times; it then leaves as often). */
  join(group: GroupName, pid?: Pid): void;
  /** Leaves a local process group once. */
  leave(group: GroupName, pid?: Pid): void;
  /** The members of a local process group, one entry per join. */
  members(group: GroupName): Pid[];

  /**
   * Sends `msg` to `dest` after `delayMs` on the runtime clock. A timer aimed at a pid is
   * cancelled when that process exits.
   */
  sendAfter(dest: Dest, msg: unknown, delayMs: number): TimerRef;
  /**
   * Sends `{ type: 'timeout', ref, msg }` to `dest` after `delayMs` (`erlang:start_timer/3`): `ref`
   * is the returned timer, so a process tells its timers apart. Cancelled like `sendAfter`'s.
   */
  startTimer(dest: Dest, msg: unknown, delayMs: number): TimerRef;
  /**
   * Cancels a timer; returns the whole milliseconds that were left (`erlang:cancel_timer/1`), or
   * false if it already fired, was cancelled, or its target process exited.
   */
  cancelTimer(timer: TimerRef): number | false;
  /**
   * `erlang:cancel_timer/2`: `info: false` answers `'ok'` instead of the time left; `async: true`
   * answers `'ok'` and, unless `info` is false, sends the caller a {@link CancelTimerMessage}
   * (the timer is cancelled at once either way: a JavaScript runtime has no other scheduler
   * thread to wait for).
   */
  cancelTimer(timer: TimerRef, options: { async?: boolean; info?: boolean }): number | false | 'ok';
  /** The whole milliseconds left before `timer` fires (`erlang:read_timer/1`), or false as `cancelTimer`. */
  readTimer(timer: TimerRef): number | false;
}

/** Re-exported here for convenience of body signatures. */
export type { ExitReason };
