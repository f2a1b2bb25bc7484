// Supervisor vocabulary (OTP's, camelCased): strategies, restart types, shutdown, child specs.

import type { Pid } from '../pid/pid.ts';
import type { ProcessContext } from '../process/types.ts';

/**
 * - `oneForOne`: only the failed child is restarted.
 * - `oneForAll`: all children are stopped (in reverse order) and restarted (in order).
 * - `restForOne`: the failed child and those started after it are stopped and restarted.
 * - `simpleOneForOne`: one child spec, children added at run time with `startChild(sup, args)`.
 */
export type Strategy = 'oneForOne' | 'oneForAll' | 'restForOne' | 'simpleOneForOne';

/**
 * - `permanent`: always restarted.
 * - `transient`: restarted only after an abnormal exit (not `normal`, `shutdown`, `{ shutdown: _ }`).
 * - `temporary`: never restarted.
 */
export type RestartType = 'permanent' | 'transient' | 'temporary';

/**
 * How a child is stopped: `brutal_kill` (exit `kill` at once), a number of ms to wait after
 * exit `shutdown` before `kill`, or `infinity` (wait as long as it takes; the default for
 * supervisors).
 */
export type Shutdown = 'brutal_kill' | 'infinity' | number;

/** `supervisor` children get `infinity` as their default shutdown. */
export type ChildType = 'worker' | 'supervisor';

/**
 * Starts a child and returns its pid, linked to the supervisor (`ctx` is the supervisor's
 * context: use `ctx.spawnLink`, `GenServer.startLink(ctx, …)`, `Supervisor.startLink(ctx, …)`).
 * Return `'ignore'` to skip the child; throw to report a failed start.
 */
export type ChildStart<Args extends unknown[] = []> = (ctx: ProcessContext, ...args: Args) => Pid | 'ignore' | Promise<Pid | 'ignore'>;

/** One child of a supervisor. */
export interface ChildSpec<Args extends unknown[] = []> {
  /** Unique among the supervisor's children. */
  id: string;
  start: ChildStart<Args>;
  /** Default `permanent`. */
  restart?: RestartType;
  /** Default 5,000 ms for workers, `infinity` for supervisors. */
  shutdown?: Shutdown;
  /** Default `worker`. */
  type?: ChildType;
}

/** Any child spec, whatever its start arguments. */
// `never[]` accepts every argument list: a start function with parameters is still assignable.
export type AnyChildSpec = ChildSpec<never[]>;

/** A supervisor: its restart strategy, restart intensity, and children. */
export interface SupervisorSpec {
  /** Default `oneForOne`. */
  strategy?: Strategy;
  /**
   * At most this many restarts within `periodMs` (OTP default: 1 in 5 s). One more, and the
   * supervisor stops all its children and exits with `shutdown`, escalating to its own supervisor.
   */
  intensity?: number;
  /** Default 5,000 ms. A restart older than this no longer counts. */
  periodMs?: number;
  /** Started in order, stopped in reverse order. `simpleOneForOne`: exactly one spec, the template. */
  children: AnyChildSpec[];
}

/** One entry of `whichChildren`. */
export interface ChildInfo {
  id: string;
  /** The running pid, `'restarting'` while a restart is pending, or undefined when not running. */
  pid: Pid | 'restarting' | undefined;
  type: ChildType;
  restart: RestartType;
}

/** Result of `countChildren`. */
export interface ChildCounts {
  /** Child specs (for `simpleOneForOne`: 1, its template, as OTP counts). */
  specs: number;
  /** Children running. */
  active: number;
  supervisors: number;
  workers: number;
}
