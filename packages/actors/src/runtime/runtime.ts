// The runtime: one node's processes, names, groups and timers, and the exit-signal machinery
// that links and monitors ride on. Several runtimes can live in one OS process (one per node).
//
// Longer than 600 lines because every method here changes the same tables (processes, names,
// groups, timers, links) under the same invariants (a name freed at exit, a DOWN for every
// monitor); split, those invariants would be spread over modules reaching into each other's state.

import { VirtualClock, createTelemetry, defaultLogger, newIncarnation, systemClock, systemRandom } from '@fdn/core';
import type { Clock, Logger, Random, Telemetry, TimerHandle } from '@fdn/core';
import { ActorError, ErrorCode } from '../errors.ts';
import { DownMessageImpl, formatReason, isNormalExit } from '../exit/reason.ts';
import { SystemRequest } from '../process/system.ts';
import type { ExitReason } from '../exit/reason.ts';
import { Pid, Ref } from '../pid/pid.ts';
import type { RemoteName } from '../pid/pid.ts';
import { isSystemMessage, Process, TimerRecord } from '../process/process.ts';
import { carriesTrace, traced } from '../process/traced-message.ts';
import { tracing } from '../trace/trace.ts';
import type { LoopInit } from '../process/process.ts';
import { isGlobalName } from '../process/types.ts';
import type { Dest, GroupName, ProcessBody, ProcessContext, SpawnOptions, TimeoutMessage, TimerRef } from '../process/types.ts';
import { Scheduler } from '../scheduler/scheduler.ts';
import type { SchedulerOptions } from '../scheduler/scheduler.ts';
import { describeProcess } from './introspection.ts';
import type { ProcessInfo } from './introspection.ts';
import type { RemoteEndpoint, RemoteRouter } from './remote.ts';

/** Options of {@link createRuntime}. */
export interface RuntimeOptions {
  /** This node's name (default `'local'`). Appears in every pid and ref. */
  node?: string;
  /** This start of the node (default: from the wall clock, see `newIncarnation`). A restarted node must use a larger one. */
  incarnation?: number;
  /** Time source for timers and receive timeouts (default: the system clock). */
  clock?: Clock;
  /** Where crash reports go (default: warnings and errors to stderr, see `defaultLogger`). */
  logger?: Logger;
  /** Telemetry hub for spawn/exit/restart events (default: a private hub). */
  telemetry?: Telemetry;
  /** Randomness (only the default incarnation uses it, within a millisecond). */
  random?: Random;
  /** Scheduler tuning. */
  scheduler?: SchedulerOptions;
}

/**
 * Creates a runtime: the local half of a node. Everything a process does goes through it.
 *
 * @example
 * const rt = createRuntime({ node: 'a', logger: consoleLogger() });
 * const echo = rt.spawn(async (ctx) => {
 *   for (;;) { const m = await ctx.receive() as { from: Pid; text: string }; ctx.send(m.from, m.text); }
 * });
 * const reply = await rt.run(async (ctx) => { ctx.send(echo, { from: ctx.self, text: 'hi' }); return ctx.receive(); });
 */
export function createRuntime(options: RuntimeOptions = {}): Runtime {
  return new Runtime(options);
}

// The runtime is the ProcessHost of each of its processes: `new Process(pid, this, …)` checks it
// (not `implements`, which would put an internal type into the published declarations).
/** One node's local process runtime. Create with {@link createRuntime}. */
export class Runtime {
  /** This node's name. */
  readonly node: string;
  /** This start of the node. */
  readonly incarnation: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly telemetry: Telemetry;
  /** @internal */ readonly scheduler: Scheduler;
  /** A pid that stands for code outside any process (the sender of `runtime.exit`). */
  readonly systemPid: Pid;

  readonly #table = new Map<number, Process>();
  readonly #names = new Map<string, Process>();
  readonly #groups = new Map<GroupName, Map<Process, number>>();
  #nextId = 1;
  #nextRef = 1;
  #stopped = false;
  #router: RemoteRouter | null = null;
  /** Exit worklist: processes marked dead whose links and monitors are not yet signalled. */
  readonly #dying: Process[] = [];
  readonly #dyingReasons: ExitReason[] = [];
  #reaping = false;

  constructor(options: RuntimeOptions = {}) {
    const node: unknown = options.node ?? 'local';
    if (typeof node !== 'string' || node.length === 0) {
      throw new ActorError(ErrorCode.BAD_ARGUMENT, `node name must be a non-empty string, got ${String(node)}`);
    }
    this.node = node;
    this.clock = options.clock ?? systemClock();
    this.incarnation = options.incarnation ?? newIncarnation(this.clock, options.random ?? systemRandom());
    this.logger = options.logger ?? defaultLogger();
    this.telemetry = options.telemetry ?? createTelemetry();
    this.scheduler = new Scheduler(options.scheduler);
    this.systemPid = new Pid(this.node, 0, this.incarnation);
    // A virtual clock's advance() waits for the processes its timers wake up to settle.
    if (this.clock instanceof VirtualClock) this.clock.addSettler(() => this.scheduler.busy());
  }

  /** How `console.log` and crash reports show a runtime (never its process table). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `[Runtime ${this.node}]`;
  }

  // ==== Processes ====

  /** Starts a process running `body` (from code outside any process); returns its pid. */
  spawn(body: ProcessBody, options?: SpawnOptions): Pid {
    return this.spawnFrom(null, body, options, false);
  }

  /**
   * Runs `body` in a new process and resolves with its return value; rejects with the exit
   * reason (an `Error`, or an `ActorError` with code `FDN_ERR_EXITED` carrying the reason) if it
   * exits any other way. The bridge from plain async code into the process world.
   */
  run<T>(body: (ctx: ProcessContext) => T | Promise<T>, options?: SpawnOptions): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let returned = false;
      let value: T | undefined;
      const pid = this.spawn(async (ctx) => {
        value = await body(ctx);
        returned = true;
      }, options);
      const proc = pid._proc as Process;
      proc.ext().quietCrash = true;
      proc.onExit((reason) => {
        if (returned && reason === 'normal') resolve(value as T);
        else reject(reason instanceof Error ? reason : new ActorError(ErrorCode.EXITED, `process ${pid} exited: ${formatReason(reason)}`, { reason }));
      });
    });
  }

  /** @internal Spawns a function process, optionally linked to `parent`. */
  spawnFrom(parent: Process | null, body: ProcessBody, options: SpawnOptions | undefined, link: boolean): Pid {
    if (typeof body !== 'function') {
      throw new ActorError(ErrorCode.BAD_ARGUMENT, `spawn expects a function (the process body), got ${typeof body}`);
    }
    return this.#spawn(parent, body, false, options, link);
  }

  /** @internal Spawns a behaviour process whose init returns its message handler. */
  spawnLoop(parent: Process | null, init: LoopInit, options: SpawnOptions | undefined, link: boolean): Process {
    const pid = this.#spawn(parent, init, true, options, link);
    return pid._proc as Process;
  }

  #spawn(parent: Process | null, entry: ProcessBody | LoopInit, isLoop: boolean, options: SpawnOptions | undefined, link: boolean): Pid {
    if (this.#stopped) throw new ActorError(ErrorCode.RUNTIME_STOPPED, `runtime ${this.node} is stopped; create a new one`);
    if (options?.name !== undefined) this.#checkRegistrable(options.name);
    const pid = new Pid(this.node, this.#nextId++, this.incarnation);
    const proc = new Process(pid, this, entry, isLoop);
    pid._proc = proc;
    this.#table.set(pid.id, proc);
    if (options !== undefined) this.#applyOptions(proc, options, parent);
    if (link && parent?.alive === true) {
      (parent.links ??= new Set()).add(pid);
      (proc.links = new Set()).add(parent.self);
    }
    this.scheduler.enqueue(proc);
    if (this.telemetry.active) {
      this.telemetry.emit('fdn.actors.process.spawn', { count: this.#table.size }, { pid, label: proc.extras?.label ?? null });
    }
    return pid;
  }

  #applyOptions(proc: Process, options: SpawnOptions, parent: Process | null): void {
    if (options.trapExit === true) proc.trapping = true;
    if (options.maxMailbox !== undefined || options.overflow !== undefined || options.label !== undefined || options.name !== undefined) {
      const ext = proc.ext();
      if (options.maxMailbox !== undefined) {
        if (!Number.isInteger(options.maxMailbox) || options.maxMailbox < 1) {
          throw new ActorError(ErrorCode.BAD_ARGUMENT, `maxMailbox must be a positive integer, got ${String(options.maxMailbox)}`);
        }
        ext.maxMailbox = options.maxMailbox;
      }
      if (options.overflow !== undefined) ext.overflow = options.overflow;
      if (options.label !== undefined) ext.label = options.label;
      if (options.name !== undefined) {
        ext.name = options.name;
        this.#names.set(options.name, proc);
      }
    }
    if (parent !== null) proc.ext().parent = parent.self;
  }

  /** True when `pid` names a live process of this runtime. */
  isAlive(pid: Pid): boolean {
    return this.#local(pid)?.alive === true;
  }

  /** Pids of all live processes, in spawn order. */
  processes(): Pid[] {
    const out: Pid[] = [];
    for (const p of this.#table.values()) out.push(p.self);
    return out;
  }

  /** Number of live processes. */
  get processCount(): number {
    return this.#table.size;
  }

  /** Reductions used by every process since the runtime started (Erlang's `statistics(reductions)`): messages handled, starts, resumptions. */
  get reductions(): number {
    return this.scheduler.reductions;
  }

  /** Processes with work waiting for their turn now (Erlang's `statistics(run_queue)`). */
  get runQueueLength(): number {
    return this.scheduler.runQueueLength;
  }

  /** What a live process is doing, or `undefined` if it is not alive here. */
  processInfo(pid: Pid): ProcessInfo | undefined {
    const p = this.#local(pid);
    return !p?.alive ? undefined : describeProcess(p);
  }

  /** A new unique reference. */
  makeRef(): Ref {
    return new Ref(this.node, this.#nextRef++, this.incarnation);
  }

  // ==== Messages and signals ====

  /** Sends `msg` to `dest` from outside any process (same rules as `ctx.send`). */
  send(dest: Dest, msg: unknown): void {
    this.sendFrom(null, dest, msg);
  }

  /** @internal */
  sendFrom(from: Pid | null, dest: Dest, msg: unknown): void {
    // Sent while a span is active (never without an SDK): the message travels in a trace envelope.
    if (tracing() && !isSystemMessage(msg) && !carriesTrace(msg)) msg = traced(msg, destLabel(dest)) ?? msg;
    if (dest instanceof Pid) {
      const p = dest._proc;
      if (p !== null) {
        if (p.rt === this) p.deliver(msg);
        else this.#router?.send(from, dest, msg);
      } else if (dest.node !== this.node || dest.incarnation !== this.incarnation) {
        this.#router?.send(from, dest, msg);
      }
      return;
    }
    if (typeof dest === 'string') {
      const p = this.#names.get(dest);
      if (p === undefined) {
        throw new ActorError(ErrorCode.NOT_REGISTERED, `no process is registered as '${dest}' on ${this.node}; check whereis() first or send to a pid`);
      }
      p.deliver(msg);
      return;
    }
    if (isGlobalName(dest)) {
      const pid = this.resolveGlobal(dest.global);
      if (pid === undefined) {
        throw new ActorError(ErrorCode.NOT_REGISTERED, `no process is registered globally as '${dest.global}'${this.#router === null ? ' (this runtime is not part of a cluster)' : ''}; check node.whereisGlobal() first or send to a pid`);
      }
      this.sendFrom(from, pid, msg);
      return;
    }
    if (dest.node === this.node) this.#names.get(dest.name)?.deliver(msg);
    else this.#router?.sendNamed(from, dest, msg);
  }

  /** The pid registered as `name` in the cluster registry (needs a distribution node), or undefined. */
  resolveGlobal(name: string): Pid | undefined {
    return this.#router?.resolveGlobal?.(name);
  }

  /** @internal Why a remote node is not reachable, for error messages. */
  explainNoconnection(node: string): string {
    return this.#router?.explainNoconnection?.(node) ?? `the connection to node ${node} was lost`;
  }

  /** Sends an exit signal to `pid` from outside any process (see `ctx.exit(pid, reason)`). */
  exit(pid: Pid, reason: ExitReason): void {
    this.exitSignal(this.systemPid, pid, reason);
  }

  /** @internal */
  exitSignal(from: Pid, to: Pid, reason: ExitReason): void {
    const target = this.#local(to);
    if (target !== null) target.signal(from, reason, reason === 'kill');
    else if (!this.#isLocalNode(to)) this.#router?.exit(from, to, reason);
  }

  /** @internal */
  link(proc: Process, pid: Pid): void {
    if (pid.equals(proc.self)) return;
    if (this.#isLocalNode(pid)) {
      const target = this.#local(pid);
      if (!target?.alive) {
        // Erlang's link/1 to a dead local pid: `noproc` raised in a caller that does not trap
        // exits (checking is cheap here), an EXIT message for one that does.
        if (!proc.trapping) throw new ActorError(ErrorCode.NOPROC, `cannot link to ${pid}: it is not alive (Erlang's link/1 fails with noproc); trap exits to get an EXIT message instead`, { reason: 'noproc' });
        proc.signal(pid, 'noproc', false);
        return;
      }
      (proc.links ??= new Set()).add(target.self);
      (target.links ??= new Set()).add(proc.self);
      return;
    }
    if (this.#router === null) {
      proc.signal(pid, 'noconnection', false);
      return;
    }
    (proc.links ??= new Set()).add(pid);
    this.#router.link(proc.self, pid);
  }

  /** @internal */
  unlink(proc: Process, pid: Pid): void {
    const links = proc.links;
    if (links === null) return;
    const target = this.#local(pid);
    if (target !== null) {
      links.delete(target.self);
      target.links?.delete(proc.self);
      return;
    }
    for (const linked of links) {
      if (linked.equals(pid)) {
        links.delete(linked);
        if (!this.#isLocalNode(pid)) this.#router?.unlink(proc.self, linked);
      }
    }
  }

  /** @internal */
  monitor(proc: Process, target: Pid | RemoteName): Ref {
    if (!(target instanceof Pid)) return this.#monitorName(proc, target);
    const pid = target;
    const ref = this.makeRef();
    if (!proc.alive) return ref;
    if (this.#isLocalNode(pid)) {
      const target = this.#local(pid);
      if (!target?.alive) {
        proc.deliver(new DownMessageImpl(ref, pid, pid, 'noproc'));
        return ref;
      }
      (target.monitors ??= new Map()).set(ref, proc.self);
      (proc.watching ??= new Map()).set(ref, target.self);
      return ref;
    }
    if (this.#router === null) {
      proc.deliver(new DownMessageImpl(ref, pid, pid, 'noconnection'));
      return ref;
    }
    (proc.watching ??= new Map()).set(ref, pid);
    this.#router.monitor(proc.self, pid, ref);
    return ref;
  }

  /**
   * A monitor of a registered name: local names resolve now; remote ones through the router. Its
   * DOWN names the target as given (Erlang's `{Name, Node}`), also when nobody holds the name.
   */
  #monitorName(proc: Process, target: RemoteName): Ref {
    const name: RemoteName = { name: target.name, node: target.node };
    const ref = this.makeRef();
    if (!proc.alive) return ref;
    if (target.node === this.node) {
      const holder = this.#names.get(target.name);
      if (holder?.alive !== true) {
        proc.deliver(new DownMessageImpl(ref, name, this.systemPid, 'noproc'));
        return ref;
      }
      (holder.monitors ??= new Map()).set(ref, proc.self);
      (proc.watching ??= new Map()).set(ref, holder.self);
      (proc.watchingNames ??= new Map()).set(ref, name);
      return ref;
    }
    if (this.#router === null) {
      proc.deliver(new DownMessageImpl(ref, name, new Pid(target.node, 0, 0), 'noconnection'));
      return ref;
    }
    // Until the other node answers with the pid, the monitor points at its node (id 0).
    (proc.watching ??= new Map()).set(ref, new Pid(target.node, 0, 0));
    (proc.watchingNames ??= new Map()).set(ref, name);
    this.#router.monitorName(proc.self, target, ref);
    return ref;
  }

  /** The other node resolved the name of the monitor `ref` held by the local `watcher` to `pid`. */
  #resolveNameMonitor(watcher: Pid, ref: Ref, pid: Pid): boolean {
    const watching = this.#local(watcher)?.watching;
    if (watching == null) return false;
    for (const r of watching.keys()) {
      if (!r.equals(ref)) continue;
      watching.set(r, pid);
      return true;
    }
    return false;
  }

  /** @internal */
  demonitor(proc: Process, ref: Ref, flush: boolean): boolean {
    let target: Pid | undefined;
    let key: Ref | undefined;
    const watching = proc.watching;
    if (watching !== null) {
      target = watching.get(ref);
      key = ref;
      if (target === undefined) {
        for (const [r, t] of watching) {
          if (r.equals(ref)) {
            key = r;
            target = t;
            break;
          }
        }
      }
    }
    if (target !== undefined && key !== undefined) {
      watching?.delete(key);
      if (watching?.size === 0) proc.watching = null;
      if (proc.watchingNames?.delete(key) === true && proc.watchingNames.size === 0) proc.watchingNames = null;
      const local = this.#local(target);
      if (local !== null) {
        // Drop empty maps: a server answering calls would otherwise keep one per past caller pattern.
        if (local.monitors?.delete(key) === true && local.monitors.size === 0) local.monitors = null;
      }
      else if (!this.#isLocalNode(target)) this.#router?.demonitor(proc.self, target, key);
    }
    if (flush) proc.removeMatching((m) => m instanceof DownMessageImpl && m.ref.equals(ref));
    return target !== undefined;
  }

  /** @internal The process's body returned: it exits `normal`. */
  finish(proc: Process, _value: unknown): void {
    this.terminate(proc, 'normal');
  }

  /** @internal An uncaught error ends the process, with a crash report (Erlang's "Error in process"). */
  crash(proc: Process, err: unknown): void {
    if (!proc.alive) return;
    if (!isNormalExit(err) && proc.extras?.quietCrash !== true) {
      this.logger.error(`process ${proc.self} crashed`, {
        pid: proc.self.toString(),
        name: proc.extras?.name ?? undefined,
        label: proc.extras?.label ?? undefined,
        reason: err,
      });
    }
    this.terminate(proc, err);
  }

  /**
   * @internal Ends `proc` with `reason`: it is dead at once; its links and monitors are
   * signalled from a worklist, so long chains of links never grow the stack.
   */
  terminate(proc: Process, reason: ExitReason): void {
    if (!proc.alive) return;
    proc.markDead();
    this.#dying.push(proc);
    this.#dyingReasons.push(reason);
    if (this.#reaping) return;
    this.#reaping = true;
    try {
      for (let i = 0; i < this.#dying.length; i++) this.#reap(this.#dying[i] as Process, this.#dyingReasons[i]);
    } finally {
      this.#dying.length = 0;
      this.#dyingReasons.length = 0;
      this.#reaping = false;
    }
  }

  #reap(proc: Process, reason: ExitReason): void {
    const self = proc.self;
    this.#table.delete(self.id);
    self._proc = null;
    proc.mailbox = null;
    const ext = proc.extras;
    if (ext !== null) {
      if (ext.name !== null && this.#names.get(ext.name) === proc) this.#names.delete(ext.name);
      if (ext.groups !== null) {
        for (const group of ext.groups.keys()) this.#groups.get(group)?.delete(proc);
        for (const group of ext.groups.keys()) if (this.#groups.get(group)?.size === 0) this.#groups.delete(group);
      }
      if (ext.timers !== null) {
        // Finished, not merely stopped: cancelTimer and readTimer answer false for them, as in Erlang.
        for (const timer of ext.timers) {
          if (timer.handle !== null) this.clock.clearTimer(timer.handle);
          timer.handle = null;
        }
      }
    }
    const links = proc.links;
    if (links !== null) {
      proc.links = null;
      for (const pid of links) {
        const target = this.#local(pid);
        if (target !== null) {
          target.links?.delete(self);
          target.signal(self, reason, false);
        } else if (!this.#isLocalNode(pid)) {
          this.#router?.linkExit(self, pid, reason);
        }
      }
    }
    const monitors = proc.monitors;
    if (monitors !== null) {
      proc.monitors = null;
      for (const [ref, watcher] of monitors) {
        const w = this.#local(watcher);
        if (w !== null) w.down(ref, self, reason);
        else if (!this.#isLocalNode(watcher)) this.#router?.down(watcher, ref, self, reason);
      }
    }
    const watching = proc.watching;
    if (watching !== null) {
      proc.watching = null;
      for (const [ref, target] of watching) {
        const t = this.#local(target);
        if (t !== null) t.monitors?.delete(ref);
        else if (!this.#isLocalNode(target)) this.#router?.demonitor(self, target, ref);
      }
    }
    if (ext?.exitHooks != null) {
      for (const hook of ext.exitHooks) {
        try {
          hook(reason);
        } catch (err) {
          this.logger.error('exit hook failed', { pid: self.toString(), reason: err });
        }
      }
    }
    if (this.telemetry.active) {
      this.telemetry.emit('fdn.actors.process.exit', { count: this.#table.size }, { pid: self, reason, label: ext?.label ?? null });
    }
  }

  // ==== Registry ====

  /**
   * Registers `pid` (a live local process) under `name`, as Erlang's `register/2`. A name
   * belongs to one live process and frees itself when that process exits. Every refusal is
   * `FDN_ERR_BADARG` (OTP's `badarg`); `reason.badarg` and the message say which (see
   * `ProcessContext.register`).
   */
  register(name: string, pid: Pid): void {
    const badarg = (why: string, message: string, extra: object = {}): ActorError =>
      new ActorError(ErrorCode.BADARG, `cannot register '${String(candidate)}': ${message}`, { reason: { badarg: why, ...extra } });
    const candidate: unknown = name;
    if (typeof candidate !== 'string' || candidate.length === 0) throw badarg('bad_name', 'a registered name must be a non-empty string');
    // Erlang reserves the atom `undefined` (whereis answers it for "nobody").
    if (name === 'undefined') throw badarg('reserved_name', "'undefined' is reserved (Erlang's whereis answers it for nobody)");
    const proc = pid instanceof Pid ? this.#local(pid) : null;
    if (!proc?.alive) throw badarg('noproc', `${String(pid)} is not a live process of ${this.node}`);
    const holder = this.#names.get(name);
    if (holder !== undefined) throw badarg('name_taken', `the name is held by ${holder.self}; pick another or wait for it to exit`, { holder: holder.self });
    const ext = proc.ext();
    if (ext.name !== null) throw badarg('already_registered', `${pid} is already registered as '${ext.name}'; unregister it first`);
    ext.name = name;
    this.#names.set(name, proc);
  }

  /** A name given to `spawn` or `GenServer.start` must be free (OTP's `{already_started, Pid}`). */
  #checkRegistrable(name: string): void {
    const candidate: unknown = name;
    if (typeof candidate !== 'string' || candidate.length === 0 || candidate === 'undefined') {
      throw new ActorError(ErrorCode.BAD_ARGUMENT, `a registered name must be a non-empty string other than 'undefined', got ${String(candidate)}`);
    }
    const holder = this.#names.get(name);
    if (holder !== undefined) {
      throw new ActorError(ErrorCode.NAME_TAKEN, `'${name}' is already registered to ${holder.self}; pick another name or wait for it to exit`, {
        reason: { alreadyStarted: holder.self },
      });
    }
  }

  /** Frees `name`; throws `FDN_ERR_NOT_REGISTERED` if nobody holds it. */
  unregister(name: string): void {
    const proc = this.#names.get(name);
    if (proc === undefined) throw new ActorError(ErrorCode.NOT_REGISTERED, `'${name}' is not registered on ${this.node}`);
    this.#names.delete(name);
    if (proc.extras !== null) proc.extras.name = null;
  }

  /** The pid registered under `name`, or `undefined`. */
  whereis(name: string): Pid | undefined {
    return this.#names.get(name)?.self;
  }

  /** All registered names. */
  registered(): string[] {
    return [...this.#names.keys()];
  }

  // ==== Process groups (local) ====

  /** Adds the live local process `pid` to `group` (once more if already a member). */
  join(group: GroupName, pid: Pid): void {
    const proc = this.#local(pid);
    if (!proc?.alive) throw new ActorError(ErrorCode.NOPROC, `cannot join '${group}': ${pid} is not a live process of ${this.node}`);
    let members = this.#groups.get(group);
    if (members === undefined) this.#groups.set(group, (members = new Map<Process, number>()));
    members.set(proc, (members.get(proc) ?? 0) + 1);
    const ext = proc.ext();
    (ext.groups ??= new Map()).set(group, (ext.groups.get(group) ?? 0) + 1);
  }

  /** Removes one membership of `pid` in `group`; returns false if it was not a member. */
  leave(group: GroupName, pid: Pid): boolean {
    const proc = this.#local(pid);
    const members = this.#groups.get(group);
    if (proc === null || members === undefined) return false;
    const count = members.get(proc);
    if (count === undefined) return false;
    if (count > 1) members.set(proc, count - 1);
    else members.delete(proc);
    if (members.size === 0) this.#groups.delete(group);
    const groups = proc.extras?.groups;
    if (groups != null) {
      const mine = groups.get(group) ?? 0;
      if (mine > 1) groups.set(group, mine - 1);
      else groups.delete(group);
    }
    return true;
  }

  /** Members of `group`, one entry per join, in join order of first membership. */
  members(group: GroupName): Pid[] {
    const out: Pid[] = [];
    const members = this.#groups.get(group);
    if (members === undefined) return out;
    for (const [proc, count] of members) for (let i = 0; i < count; i++) out.push(proc.self);
    return out;
  }

  /** Groups that have at least one member. */
  whichGroups(): GroupName[] {
    return [...this.#groups.keys()];
  }

  // ==== Timers ====

  /** Sends `msg` to `dest` after `delayMs`; see `ctx.sendAfter` (`erlang:send_after/3`). */
  sendAfter(dest: Dest, msg: unknown, delayMs: number): TimerRef {
    return this.#timer(dest, delayMs, () => msg);
  }

  /** Sends `{ type: 'timeout', ref, msg }` to `dest` after `delayMs`; see `ctx.startTimer` (`erlang:start_timer/3`). */
  startTimer(dest: Dest, msg: unknown, delayMs: number): TimerRef {
    return this.#timer(dest, delayMs, (ref) => ({ type: 'timeout', ref, msg }) satisfies TimeoutMessage);
  }

  #timer(dest: Dest, delayMs: number, message: (ref: TimerRef) => unknown): TimerRef {
    const owner = dest instanceof Pid ? this.#local(dest) : null;
    const timer = new TimerRecord(this.clock.now() + Math.max(0, delayMs), owner);
    timer.handle = this.clock.setTimer(delayMs, () => {
      timer.handle = null;
      owner?.extras?.timers?.delete(timer);
      try {
        this.sendFrom(null, dest, message(timer));
      } catch {
        // A timer to a name nobody holds is dropped, as erlang:send_after does.
      }
    });
    if (owner?.alive === true) (owner.ext().timers ??= new Set()).add(timer);
    return timer;
  }

  /**
   * Cancels a timer; returns the whole milliseconds that were left (as `erlang:cancel_timer/1`),
   * or false if it fired, was cancelled, or its target process exited.
   */
  cancelTimer(timer: TimerRef): number | false {
    if (!(timer instanceof TimerRecord) || timer.handle === null) return false;
    const left = this.readTimer(timer);
    this.clock.clearTimer(timer.handle);
    timer.handle = null;
    timer.owner?.extras?.timers?.delete(timer);
    return left;
  }

  /** The whole milliseconds left before `timer` fires (`erlang:read_timer/1`), or false if it fired, was cancelled, or its target exited. */
  readTimer(timer: TimerRef): number | false {
    if (!(timer instanceof TimerRecord) || timer.handle === null) return false;
    // As OTP's timer wheel counts: in whole milliseconds, the current one rounded up.
    return Math.max(0, Math.ceil(timer.dueAt) - Math.ceil(this.clock.now()));
  }

  // ==== Lifecycle ====

  /**
   * Resolves once no process is runnable (the run queue is empty and no drain is pending),
   * checked over a few event-loop turns; at most `maxTurns` turns.
   */
  async idle(maxTurns = 100_000): Promise<void> {
    let quiet = 0;
    for (let turn = 0; turn < maxTurns && quiet < 2; turn++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      quiet = this.scheduler.busy() ? 0 : quiet + 1;
    }
  }

  /** True once {@link shutdown} ran. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /**
   * Stops the runtime in order, the way OTP stops an application: each root process (started
   * from outside any process, or orphaned), newest first, is asked to stop with `shutdown` and
   * waited for up to `timeoutMs` (default 5,000), then killed. A GenServer, Supervisor or
   * StateMachine runs its `terminate` (a supervisor first stops its children in reverse start
   * order, each with its own shutdown timeout); a function process gets the exit signal (an
   * `EXIT` message if it traps exits, so it can clean up and return). Whatever is still alive
   * after that is killed, and `spawn` is refused from then on.
   */
  async stop(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#stopped) return;
    const timeoutMs = options.timeoutMs ?? 5_000;
    const roots: Process[] = [];
    for (const proc of this.#table.values()) {
      const parent = proc.extras?.parent ?? null;
      if (parent === null || !this.isAlive(parent)) roots.push(proc);
    }
    for (const proc of roots.reverse()) {
      if (!proc.alive) continue;
      const exited = new Promise<void>((resolve) => {
        proc.onExit(() => {
          resolve();
        });
      });
      if (proc.isLoop) proc.deliver(new SystemRequest('stop', 'shutdown'));
      else proc.signal(this.systemPid, 'shutdown', false);
      // (A function process that does not trap exits is gone already.)
      const alive = (): boolean => proc.alive;
      if (!alive()) continue;
      let timer: TimerHandle | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = this.clock.setTimer(timeoutMs, () => {
          resolve('late');
        });
      });
      const outcome = await Promise.race([exited, late]);
      if (timer !== undefined) this.clock.clearTimer(timer);
      if (outcome === 'late' && alive()) {
        this.logger.warn(`process ${proc.self} did not stop within ${String(timeoutMs)} ms of shutdown: killed`, { pid: proc.self.toString(), name: proc.extras?.name ?? undefined });
        proc.signal(this.systemPid, 'kill', true);
      }
    }
    this.shutdown('shutdown');
  }

  /**
   * Stops the runtime at once: every process exits with `reason` (untrappable, no `terminate`;
   * {@link stop} is the orderly way), names and groups are freed, and `spawn` is refused.
   */
  shutdown(reason: ExitReason = 'shutdown'): void {
    this.#stopped = true;
    for (const proc of [...this.#table.values()]) this.terminate(proc, reason);
  }

  // ==== Distribution ====

  /**
   * Joins this runtime to other nodes: `router` carries what local processes send to remote pids
   * (@fdn/distribution installs one), and the endpoint returned is how what arrives from other
   * nodes reaches local processes. Once per runtime. Without a router, remote pids behave as
   * unreachable.
   */
  attachRemote(router: RemoteRouter): RemoteEndpoint {
    if (this.#router !== null) throw new ActorError(ErrorCode.BAD_ARGUMENT, `runtime ${this.node} is attached to other nodes already`);
    this.#router = router;
    const scheduler = this.scheduler;
    return {
      systemPid: this.systemPid,
      deliver: (to, msg) => {
        const target = typeof to === 'string' ? this.#names.get(to) : this.#local(to);
        target?.deliver(msg);
      },
      link: (from, to) => {
        const target = this.#local(to);
        if (!target?.alive) return false;
        const links = (target.links ??= new Set());
        for (const linked of links) if (linked.equals(from)) return true;
        links.add(from);
        return true;
      },
      unlink: (from, to) => {
        const links = this.#local(to)?.links;
        if (links == null) return;
        for (const linked of links) if (linked.equals(from)) links.delete(linked);
      },
      linkExit: (from, to, reason) => {
        const target = this.#local(to);
        if (target === null) return;
        let linked = false;
        for (const l of target.links ?? []) {
          if (!l.equals(from)) continue;
          target.links?.delete(l);
          linked = true;
        }
        if (linked) target.signal(from, reason, false);
      },
      exit: (from, to, reason) => {
        this.#local(to)?.signal(from, reason, reason === 'kill');
      },
      monitor: (watcher, target, ref) => {
        const proc = this.#local(target);
        if (!proc?.alive) return false;
        (proc.monitors ??= new Map()).set(ref, watcher);
        return true;
      },
      demonitor: (target, ref) => {
        const proc = this.#local(target);
        const monitors = proc?.monitors;
        if (proc == null || monitors == null) return;
        for (const r of monitors.keys()) if (r.equals(ref)) monitors.delete(r);
        if (monitors.size === 0) proc.monitors = null;
      },
      down: (watcher, ref, target, reason) => {
        const proc = this.#local(watcher);
        const watching = proc?.watching;
        if (proc == null || watching == null) return;
        for (const r of watching.keys()) {
          if (!r.equals(ref)) continue;
          proc.down(r, target, reason);
          return;
        }
      },
      resolveNameMonitor: (watcher, ref, pid) => this.#resolveNameMonitor(watcher, ref, pid),
      adoptLink: (local, remote) => {
        const proc = this.#local(local);
        if (!proc?.alive) return false;
        (proc.links ??= new Set()).add(remote);
        return true;
      },
      adoptMonitor: (watcher, target, ref) => {
        const proc = this.#local(watcher);
        if (!proc?.alive) return false;
        (proc.watching ??= new Map()).set(ref, target);
        return true;
      },
      onExit: (pid, hook) => {
        const proc = this.#local(pid);
        return proc?.alive === true ? proc.onExit(hook) : null;
      },
      get overloaded() {
        return scheduler.overloaded;
      },
      onNextSlice: (fn) => {
        scheduler.onNextSlice(fn);
      },
    };
  }

  /** @internal A name on another node, resolved by the distribution layer if it knows it. */
  resolveRemoteName(name: RemoteName): Pid | undefined {
    return this.#router?.resolveName(name);
  }

  /**
   * The pid for (node, id, incarnation): the live local process's own pid object when it names
   * one (so decoded pids work as Map keys and identity), else a new pid. Codecs use it.
   */
  pidFor(node: string, id: number, incarnation: number): Pid {
    if (node === this.node && incarnation === this.incarnation) {
      const proc = this.#table.get(id);
      if (proc !== undefined) return proc.self;
    }
    return new Pid(node, id, incarnation);
  }

  /** @internal The live local process a pid names, or null. */
  localProcess(pid: Pid): Process | null {
    return this.#local(pid);
  }

  #local(pid: Pid): Process | null {
    const p = pid._proc;
    if (p !== null) return p.rt === this && p instanceof Process ? p : null;
    if (pid.node !== this.node || pid.incarnation !== this.incarnation) return null;
    return this.#table.get(pid.id) ?? null;
  }

  #isLocalNode(pid: Pid): boolean {
    return pid.node === this.node;
  }
}

/** A destination as a span attribute. */
function destLabel(dest: Dest): string {
  if (dest instanceof Pid) return dest.toString();
  if (typeof dest === 'string') return dest;
  return isGlobalName(dest) ? `{global:${dest.global}}` : `${dest.name}@${dest.node}`;
}
