// The seam between the local runtime and the distribution layer: how messages and signals to
// pids on other nodes leave this node. @fdn/distribution implements it.

import type { ExitReason } from '../exit/reason.ts';
import type { Pid, Ref, RemoteName } from '../pid/pid.ts';

/**
 * Carries messages and exit/monitor signals to processes on other nodes. Installed on a
 * runtime by the distribution layer; every method must return at once (queue, never block)
 * and must never throw.
 */
export interface RemoteRouter {
  /** A message from `from` (null: outside any process) to a remote pid. */
  send(from: Pid | null, to: Pid, msg: unknown): void;
  /** A message to a name registered on another node. */
  sendNamed(from: Pid | null, to: RemoteName, msg: unknown): void;
  /** The local process `from` linked itself to the remote `to`. */
  link(from: Pid, to: Pid): void;
  /** The local process `from` removed its link to the remote `to`. */
  unlink(from: Pid, to: Pid): void;
  /** The local process `from` exited with `reason` while linked to the remote `to`. */
  linkExit(from: Pid, to: Pid, reason: ExitReason): void;
  /** `exit(to, reason)` sent by `from` to a remote process. */
  exit(from: Pid, to: Pid, reason: ExitReason): void;
  /** The local `watcher` monitors the remote `target` under `ref`. */
  monitor(watcher: Pid, target: Pid, ref: Ref): void;
  /**
   * The local `watcher` monitors whatever is registered as `target.name` on `target.node` under
   * `ref` (Erlang's `monitor(process, {Name, Node})`): the other node answers with the pid, or a
   * DOWN `noproc` if nothing is registered there.
   */
  monitorName(watcher: Pid, target: RemoteName, ref: Ref): void;
  /** The local `watcher` removed its monitor `ref` of the remote `target`. */
  demonitor(watcher: Pid, target: Pid, ref: Ref): void;
  /** The pid a name registered on another node stands for, when this node knows it. */
  resolveName(name: RemoteName): Pid | undefined;
  /** The pid registered as `name` in the cluster registry, if any. */
  resolveGlobal?(name: string): Pid | undefined;
  /**
   * Why `node` cannot be reached, in words for an error message (never reached, or lost, and
   * what to check). Called only when a call or monitor to it failed with `noconnection`.
   */
  explainNoconnection?(node: string): string;
  /** The local `target` exited: tell the remote `watcher` with a DOWN for `ref`. */
  down(watcher: Pid, ref: Ref, target: Pid, reason: ExitReason): void;
}

/**
 * How what arrives from other nodes reaches this runtime's processes: returned by
 * `runtime.attachRemote(router)` to the distribution layer, and to nothing else. Pids and refs
 * decoded from the wire are new objects: everything here compares with `equals`.
 */
export interface RemoteEndpoint {
  /** The pid that stands for code outside any process (the source of a DOWN for a name nobody holds). */
  readonly systemPid: Pid;
  /** A message from another node to a local pid or registered name. Unknown targets: dropped. */
  deliver(to: Pid | string, msg: unknown): void;
  /** The remote `from` links to the local `to`; false if `to` is not alive (answer with noproc). */
  link(from: Pid, to: Pid): boolean;
  /** The remote `from` removed its link to the local `to`. */
  unlink(from: Pid, to: Pid): void;
  /** The remote `from`, linked to the local `to`, exited with `reason` (or its node was lost: `noconnection`). */
  linkExit(from: Pid, to: Pid, reason: ExitReason): void;
  /** `exit(to, reason)` sent by a remote process. */
  exit(from: Pid, to: Pid, reason: ExitReason): void;
  /** The remote `watcher` monitors the local `target` under `ref`; false if `target` is not alive (answer DOWN noproc). */
  monitor(watcher: Pid, target: Pid, ref: Ref): boolean;
  /** The remote watcher removed its monitor `ref` of the local `target`. */
  demonitor(target: Pid, ref: Ref): void;
  /** A DOWN for the local `watcher`'s monitor `ref` of the remote `target`; delivered once. */
  down(watcher: Pid, ref: Ref, target: Pid, reason: ExitReason): void;
  /** The name a local watcher monitors on another node resolved to `pid`: later DOWNs carry it. */
  resolveNameMonitor(watcher: Pid, ref: Ref, pid: Pid): boolean;
  /** The local `local` is linked to the remote `remote` (the other node made the link, e.g. at a remote spawn). */
  adoptLink(local: Pid, remote: Pid): boolean;
  /** The local `watcher` monitors the remote `target` under `ref` (set up by the other node, e.g. at a remote spawn). */
  adoptMonitor(watcher: Pid, target: Pid, ref: Ref): boolean;
  /**
   * Calls `hook` synchronously when the live local process `pid` exits, before anything its exit
   * wakes up runs (a supervisor restarting it finds its names free). Null if `pid` is not live here.
   */
  onExit(pid: Pid, hook: (reason: ExitReason) => void): (() => void) | null;
  /**
   * True while local processes have more work than one scheduler slice: what arrives now only
   * lengthens mailboxes (the distribution layer stops reading sockets for a turn, so the
   * senders feel backpressure instead of this node's heap growing).
   */
  readonly overloaded: boolean;
  /** Calls `fn` once when the scheduler's next slice starts (the event loop's next turn). */
  onNextSlice(fn: () => void): void;
}
