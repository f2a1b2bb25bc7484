// A process: mailbox, selective receive, links, monitors, exit handling. The same object is the
// `ctx` a process body receives, so an idle process costs one object plus its body's frame.
//
// Longer than 600 lines because the process is the `ctx`: its public methods and its mailbox
// machinery are one object, whose private fields (mailbox, pending receive, scheduling flags) both
// touch; a split would make them public to a second module.

import type { Clock, Logger, Telemetry, TimerHandle } from '@fdn/core';
import { ActorError, ErrorCode } from '../errors.ts';
import { DownMessageImpl, ExitMessageImpl } from '../exit/reason.ts';
import { AliasMessage } from './alias.ts';
import { SystemRequest } from './system.ts';
import { handling, TracedMessage } from './traced-message.ts';
import { endWith, fail, withSpan } from '../trace/trace.ts';
import type { ExitReason } from '../exit/reason.ts';
import type { Pid, Ref, RemoteName } from '../pid/pid.ts';
import type { Runnable, Scheduler } from '../scheduler/scheduler.ts';
import { Ring } from '../util/ring.ts';
import { isThenable } from '../util/thenable.ts';
import type { Dest, GroupName, OverflowPolicy, ProcessBody, SpawnOptions } from './types.ts';
import { TIMEOUT } from './types.ts';
import type { CancelTimerMessage, Matcher, ProcessContext, Timeout, TimerRef } from './types.ts';

/**
 * @internal What a process needs of the runtime it lives in: its clock, scheduler and logs, and
 * the signals that touch other processes (links, monitors, names, groups, timers). The runtime
 * implements it; declared here so that a process does not depend on the runtime built on it.
 */
export interface ProcessHost {
  readonly node: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly telemetry: Telemetry;
  readonly scheduler: Scheduler;
  sendFrom(from: Pid | null, dest: Dest, msg: unknown): void;
  spawnFrom(parent: Process | null, body: ProcessBody, options: SpawnOptions | undefined, link: boolean): Pid;
  spawnLoop(parent: Process | null, init: LoopInit, options: SpawnOptions | undefined, link: boolean): Process;
  finish(proc: Process, value: unknown): void;
  crash(proc: Process, err: unknown): void;
  terminate(proc: Process, reason: ExitReason): void;
  exitSignal(from: Pid, to: Pid, reason: ExitReason): void;
  link(proc: Process, pid: Pid): void;
  unlink(proc: Process, pid: Pid): void;
  monitor(proc: Process, target: Pid | RemoteName): Ref;
  demonitor(proc: Process, ref: Ref, flush: boolean): boolean;
  isAlive(pid: Pid): boolean;
  makeRef(): Ref;
  register(name: string, pid: Pid): void;
  unregister(name: string): void;
  whereis(name: string): Pid | undefined;
  join(group: GroupName, pid: Pid): void;
  leave(group: GroupName, pid: Pid): boolean;
  members(group: GroupName): Pid[];
  sendAfter(dest: Dest, msg: unknown, delayMs: number): TimerRef;
  startTimer(dest: Dest, msg: unknown, delayMs: number): TimerRef;
  cancelTimer(timer: TimerRef): number | false;
  readTimer(timer: TimerRef): number | false;
  /** Why `node` is unreachable, for a `noconnection` error's text. */
  explainNoconnection(node: string): string;
  /** The pid a remote name stands for when it names a process of this node. */
  resolveRemoteName(name: RemoteName): Pid | undefined;
  /** The pid holding a global name, as far as this node knows. */
  resolveGlobal(name: string): Pid | undefined;
}

/** Bits of a process's flags. */
const QUEUED = 1;
const BUSY = 2;
const TRAPPING = 4;
const IS_LOOP = 8;

/** Lifecycle states. */
const STARTING = 0;
const ALIVE = 1;
const DEAD = 2;

/**
 * What a handler-driven (behaviour) process runs for each message. An object with methods rather
 * than a closure, so an idle behaviour process holds no per-process functions.
 */
export interface MessageHandler {
  handle(msg: unknown): void | PromiseLike<void>;
  /** What processInfo shows as `details` (for example a GenServer's state summary). */
  describe?(): Record<string, unknown>;
}

/**
 * What a behaviour's boot produces: its message handler, and optionally a first step that runs
 * before any message (OTP's `{continue, _}` from init), guarded like a handler.
 */
export interface LoopStart {
  handler: MessageHandler;
  after?: (() => void | PromiseLike<void>) | undefined;
}

/** How a behaviour process boots. */
export type LoopInit = (ctx: Process) => LoopStart | PromiseLike<LoopStart>;

/** @internal The process behind a context; throws `FDN_ERR_BAD_ARGUMENT` for anything else. */
export function toProcess(ctx: ProcessContext): Process {
  if (ctx instanceof Process) return ctx;
  throw new ActorError(ErrorCode.BAD_ARGUMENT, 'expected a process context (the ctx a process body or callback receives) or a runtime');
}

/** Thrown by `ctx.exit(reason)` to unwind a process body; the runtime catches it. */
export class ProcessExit {
  constructor(readonly reason: ExitReason) {}
}

/** A timer created by sendAfter, tracked by its destination process for auto-cancellation. */
export class TimerRecord implements TimerRef {
  handle: TimerHandle | null = null;
  constructor(
    readonly dueAt: number,
    readonly owner: Process | null,
  ) {}
}

/** Rarely used state, allocated on first use so an idle process stays small. */
interface ProcessExtras {
  name: string | null;
  groups: Map<GroupName, number> | null;
  timers: Set<TimerRecord> | null;
  maxMailbox: number;
  overflow: OverflowPolicy;
  dropped: number;
  label: string | null;
  /** Internal observers of this process's exit (runtime.run, start acknowledgements). */
  exitHooks: ((reason: ExitReason) => void)[] | null;
  /** Its crash reaches a caller as a rejected promise (`runtime.run`): no crash report of its own. */
  quietCrash: boolean;
  parent: Pid | null;
  /** The timer of a receive with a timeout. */
  waitTimer: TimerHandle | null;
  /** See {@link Process.activeAlias}. */
  activeAlias: Ref | null;
  /** The monitors this process made by registered name: ref → the name as given (what their DOWN names). */
  watchingNames: Map<Ref, RemoteName> | null;
}

const NEVER: Promise<never> = new Promise<never>(() => undefined);
const NO_MATCH = Symbol('no-match');


/** @internal Use `runtime.spawn` or `ctx.spawn`; the public face of this class is {@link ProcessContext}. */
export class Process implements ProcessContext, Runnable {
  /** Four booleans in one field (an idle process is one object; each field costs 8 bytes): see the accessors below. */
  #flags = 0;
  /** @internal */ status: number = STARTING;
  /** @internal The body to start (function processes) or the loop init (behaviours). */
  entry: ProcessBody | LoopInit | null;
  /** @internal Set for behaviour processes once their init returned. */
  loop: MessageHandler | null = null;
  /** @internal */ mailbox: Ring<unknown> | null = null;
  /** @internal A pending receive: resolve, matcher and timer. */
  waitResolve: ((msg: unknown) => void) | null = null;
  waitMatch: Matcher | null = null;
  /** @internal A receive satisfied while the slice was spent, resumed by the scheduler. */
  resume: ((msg: unknown) => void) | null = null;
  resumeValue: unknown = undefined;
  /** @internal Linked processes (local or remote). */
  links: Set<Pid> | null = null;
  /** @internal Monitors on this process: ref → watcher. */
  monitors: Map<Ref, Pid> | null = null;
  /** @internal Monitors this process holds: ref → target. */
  watching: Map<Ref, Pid> | null = null;
  /** @internal */ extras: ProcessExtras | null = null;
  /** @internal Reductions used: one per message handled, start and resumption (Erlang's `reductions`, coarser). */
  reductions = 0;

  /** @internal In the scheduler's run queue. */
  get queued(): boolean {
    return (this.#flags & QUEUED) !== 0;
  }

  set queued(on: boolean) {
    this.#flags = on ? this.#flags | QUEUED : this.#flags & ~QUEUED;
  }

  /** @internal An async handler (or init) is in progress; messages wait in the mailbox. */
  get busy(): boolean {
    return (this.#flags & BUSY) !== 0;
  }

  set busy(on: boolean) {
    this.#flags = on ? this.#flags | BUSY : this.#flags & ~BUSY;
  }

  /** @internal Exits arrive as messages. */
  get trapping(): boolean {
    return (this.#flags & TRAPPING) !== 0;
  }

  set trapping(on: boolean) {
    this.#flags = on ? this.#flags | TRAPPING : this.#flags & ~TRAPPING;
  }

  /** @internal True for behaviour processes (entry is a LoopInit). */
  get isLoop(): boolean {
    return (this.#flags & IS_LOOP) !== 0;
  }

  // Rarely set, so kept in the extras (an idle process has no such fields of its own).

  /**
   * @internal The alias this process keeps active while it waits for an answer (a call's tag).
   * Messages to another alias are late answers to waits that ended; they are dropped (OTP 24).
   */
  get activeAlias(): Ref | null {
    return this.extras?.activeAlias ?? null;
  }

  set activeAlias(alias: Ref | null) {
    if (alias !== null || this.extras !== null) this.ext().activeAlias = alias;
  }

  /** @internal The timer of a pending receive with a timeout. */
  get waitTimer(): TimerHandle | null {
    return this.extras?.waitTimer ?? null;
  }

  set waitTimer(timer: TimerHandle | null) {
    if (timer !== null || this.extras !== null) this.ext().waitTimer = timer;
  }

  /** @internal The monitors this process made by registered name: ref → the name as given (what their DOWN names). */
  get watchingNames(): Map<Ref, RemoteName> | null {
    return this.extras?.watchingNames ?? null;
  }

  set watchingNames(names: Map<Ref, RemoteName> | null) {
    if (names !== null || this.extras !== null) this.ext().watchingNames = names;
  }

  constructor(
    readonly self: Pid,
    /** @internal */ readonly rt: ProcessHost,
    entry: ProcessBody | LoopInit,
    isLoop: boolean,
  ) {
    this.entry = entry;
    if (isLoop) this.#flags |= IS_LOOP;
  }

  /** How `console.log` and crash reports show a process context (never the runtime behind it). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `[Process ${this.self.toString()}]`;
  }

  // ==== ProcessContext: identity ====

  get node(): string {
    return this.rt.node;
  }

  // ==== ProcessContext: messaging ====

  send(dest: Dest, msg: unknown): void {
    if (this.status === DEAD) return;
    this.rt.sendFrom(this.self, dest, msg);
  }

  receive<T>(match: (msg: unknown) => msg is T): Promise<T>;
  receive<T>(match: (msg: unknown) => msg is T, timeoutMs: number): Promise<T | Timeout>;
  receive(match?: Matcher | null, timeoutMs?: number): Promise<unknown>;
  receive(match?: Matcher | null, timeoutMs?: number): Promise<unknown> {
    return this.receiveFrom(0, match ?? null, timeoutMs);
  }

  /**
   * @internal Selective receive that skips the first `mark` messages (they are known not to
   * match, as after a `call` request: the reply cannot precede it).
   */
  receiveFrom(mark: number, match: Matcher | null, timeoutMs?: number): Promise<unknown> {
    if (this.status === DEAD) return NEVER;
    if (this.waitResolve !== null || this.resume !== null) {
      throw new ActorError(ErrorCode.RECEIVE_PENDING, `${this.self} called receive() while another receive() is pending; await each receive before the next`);
    }
    const mb = this.mailbox;
    if (mb !== null && mb.length > mark) {
      const found = this.#take(mb, mark, match);
      if (found !== NO_MATCH) {
        if (this.rt.scheduler.charge()) {
          this.reductions++;
          return Promise.resolve(found);
        }
        return new Promise((resolve) => {
          this.resume = resolve;
          this.resumeValue = found;
          this.rt.scheduler.enqueue(this);
        });
      }
      if (this.status === DEAD) return NEVER; // the matcher threw
    }
    if (timeoutMs !== undefined && timeoutMs <= 0) return Promise.resolve(TIMEOUT);
    return new Promise((resolve) => {
      this.waitResolve = resolve;
      this.waitMatch = match;
      if (timeoutMs !== undefined && timeoutMs !== Number.POSITIVE_INFINITY) {
        this.waitTimer = this.rt.clock.setTimer(timeoutMs, () => {
          this.#onReceiveTimeout();
        });
      }
    });
  }

  // Callbacks are created when needed, not per process: an idle process must stay small.
  #onReceiveTimeout(): void {
    const resolve = this.waitResolve;
    this.waitTimer = null;
    if (resolve === null || this.status === DEAD) return;
    this.waitResolve = null;
    this.waitMatch = null;
    resolve(TIMEOUT);
  }

  /** Finds, removes and returns the first message from `mark` on that matches, or NO_MATCH. */
  #take(mb: Ring<unknown>, mark: number, match: Matcher | null): unknown {
    if (match === null) return this.#taken(mark === 0 ? mb.shift() : mb.removeAt(mark));
    const n = mb.length;
    for (let i = mark; i < n; i++) {
      const msg = mb.at(i);
      let ok: boolean;
      try {
        ok = match(msg instanceof TracedMessage ? msg.message : msg);
      } catch (err) {
        this.rt.crash(this, err);
        return NO_MATCH;
      }
      if (ok) return this.#taken(mb.removeAt(i));
    }
    return NO_MATCH;
  }

  /** A message taken from the mailbox, out of its trace envelope (whose span ends here: handling starts). */
  #taken(msg: unknown): unknown {
    if (!(msg instanceof TracedMessage)) return msg;
    handling(msg, this.self.toString()).end();
    return msg.message;
  }

  /** @internal Puts `msg` in this process's mailbox or hands it to its pending receive. */
  deliver(msg: unknown): void {
    if (this.status === DEAD) return;
    if (msg instanceof AliasMessage && this.activeAlias?.equals(msg.alias) !== true) return;
    const resolve = this.waitResolve;
    if (resolve !== null) {
      const match = this.waitMatch;
      const plain = msg instanceof TracedMessage ? msg.message : msg;
      let ok = true;
      if (match !== null) {
        try {
          ok = match(plain);
        } catch (err) {
          this.rt.crash(this, err);
          return;
        }
      }
      if (ok) {
        this.waitResolve = null;
        this.waitMatch = null;
        if (this.waitTimer !== null) {
          this.rt.clock.clearTimer(this.waitTimer);
          this.waitTimer = null;
        }
        if (msg instanceof TracedMessage) handling(msg, this.self.toString()).end();
        if (this.rt.scheduler.charge()) {
          this.reductions++;
          resolve(plain);
        } else {
          this.resume = resolve;
          this.resumeValue = plain;
          this.rt.scheduler.enqueue(this);
        }
        return;
      }
    }
    this.#enqueueMessage(msg);
    if (this.loop !== null && !this.busy && this.resume === null) this.rt.scheduler.enqueue(this);
  }

  #enqueueMessage(msg: unknown): void {
    const mb = (this.mailbox ??= new Ring<unknown>(8));
    const ext = this.extras;
    // Signals turned messages (EXIT, DOWN), replies and system requests are never dropped nor
    // counted against the bound: losing one would leave a supervisor, a caller or a stop waiting forever.
    if (ext !== null && ext.maxMailbox > 0 && mb.length >= ext.maxMailbox && !isSystemMessage(msg)) {
      switch (ext.overflow) {
        case 'dropNewest':
          this.#dropped(ext, 'dropNewest');
          return;
        case 'dropOldest': {
          const oldest = firstOrdinary(mb);
          // Nothing but system messages queued: the arriving message is the one that goes.
          this.#dropped(ext, 'dropOldest');
          if (oldest < 0) return;
          mb.removeAt(oldest);
          break;
        }
        case 'exit':
          this.#dropped(ext, 'exit');
          this.rt.terminate(
            this,
            new ActorError(ErrorCode.MAILBOX_OVERFLOW, `${this.self} exceeded its mailbox bound of ${ext.maxMailbox} messages (overflow policy 'exit')`),
          );
          return;
      }
    }
    mb.push(msg);
  }

  /** Counts a message dropped by the mailbox bound, and tells telemetry (`fdn.actors.mailbox.drop`). */
  #dropped(ext: ProcessExtras, policy: OverflowPolicy): void {
    ext.dropped++;
    const telemetry = this.rt.telemetry;
    if (telemetry.active) telemetry.emit('fdn.actors.mailbox.drop', { dropped: ext.dropped, queued: this.mailbox?.length ?? 0 }, { pid: this.self, policy, bound: ext.maxMailbox, label: ext.label });
  }

  /** @internal Removes every queued message that matches; returns how many. */
  removeMatching(match: Matcher): number {
    const mb = this.mailbox;
    if (mb === null) return 0;
    let removed = 0;
    for (let i = 0; i < mb.length; ) {
      const msg = mb.at(i);
      if (match(msg instanceof TracedMessage ? msg.message : msg)) {
        mb.removeAt(i);
        removed++;
      } else {
        i++;
      }
    }
    return removed;
  }

  /** @internal Number of messages waiting. */
  get queueLength(): number {
    return this.mailbox?.length ?? 0;
  }

  // ==== ProcessContext: spawning ====

  spawn(body: ProcessBody, options?: SpawnOptions): Pid {
    return this.rt.spawnFrom(this, body, options, false);
  }

  spawnLink(body: ProcessBody, options?: SpawnOptions): Pid {
    return this.rt.spawnFrom(this, body, options, true);
  }

  spawnMonitor(body: ProcessBody, options?: SpawnOptions): [Pid, Ref] {
    const pid = this.rt.spawnFrom(this, body, options, false);
    return [pid, this.monitor(pid)];
  }

  // ==== ProcessContext: links, monitors, exits ====

  link(pid: Pid): void {
    if (this.status === DEAD) return;
    this.rt.link(this, pid);
  }

  unlink(pid: Pid): void {
    if (this.status === DEAD) return;
    this.rt.unlink(this, pid);
  }

  monitor(target: Pid | RemoteName): Ref {
    return this.rt.monitor(this, target);
  }

  demonitor(ref: Ref, options?: { flush?: boolean; info?: boolean }): boolean {
    const active = this.rt.demonitor(this, ref, options?.flush === true);
    return options?.info === true ? active : true;
  }

  exit(reason: ExitReason): never;
  exit(pid: Pid, reason: ExitReason): void;
  exit(pidOrReason: unknown, reason?: ExitReason): void {
    if (arguments.length < 2) {
      this.rt.terminate(this, pidOrReason);
      throw new ProcessExit(pidOrReason);
    }
    if (this.status === DEAD) return;
    this.rt.exitSignal(this.self, pidOrReason as Pid, reason);
  }

  trapExit(flag?: boolean): boolean {
    const old = this.trapping;
    if (flag !== undefined) this.trapping = flag;
    return old;
  }

  isAlive(pid: Pid): boolean {
    return this.rt.isAlive(pid);
  }

  makeRef(): Ref {
    return this.rt.makeRef();
  }

  // ==== ProcessContext: names, groups, timers ====

  register(name: string, pid: Pid = this.self): void {
    this.rt.register(name, pid);
  }

  unregister(name: string): void {
    this.rt.unregister(name);
  }

  whereis(name: string): Pid | undefined {
    return this.rt.whereis(name);
  }

  join(group: GroupName, pid: Pid = this.self): void {
    this.rt.join(group, pid);
  }

  leave(group: GroupName, pid: Pid = this.self): void {
    this.rt.leave(group, pid);
  }

  members(group: GroupName): Pid[] {
    return this.rt.members(group);
  }

  sendAfter(dest: Dest, msg: unknown, delayMs: number): TimerRef {
    return this.rt.sendAfter(dest, msg, delayMs);
  }

  startTimer(dest: Dest, msg: unknown, delayMs: number): TimerRef {
    return this.rt.startTimer(dest, msg, delayMs);
  }

  cancelTimer(timer: TimerRef): number | false;
  cancelTimer(timer: TimerRef, options: { async?: boolean; info?: boolean }): number | false | 'ok';
  cancelTimer(timer: TimerRef, options?: { async?: boolean; info?: boolean }): number | false | 'ok' {
    const result = this.rt.cancelTimer(timer);
    const info = options?.info !== false;
    if (options?.async === true) {
      if (info && this.status !== DEAD) this.deliver({ type: 'cancel_timer', ref: timer, result } satisfies CancelTimerMessage);
      return 'ok';
    }
    return info ? result : 'ok';
  }

  readTimer(timer: TimerRef): number | false {
    return this.rt.readTimer(timer);
  }

  // ==== Internal: lifecycle ====

  /** @internal */
  get alive(): boolean {
    return this.status !== DEAD;
  }

  /** @internal */
  get started(): boolean {
    return this.status === ALIVE;
  }

  /** @internal */
  ext(): ProcessExtras {
    return (this.extras ??= {
      name: null,
      groups: null,
      timers: null,
      maxMailbox: 0,
      overflow: 'dropNewest',
      dropped: 0,
      label: null,
      exitHooks: null,
      quietCrash: false,
      parent: null,
      waitTimer: null,
      activeAlias: null,
      watchingNames: null,
    });
  }

  /** @internal Registers an internal observer of this process's exit; returns its remover. */
  onExit(hook: (reason: ExitReason) => void): () => void {
    const ext = this.ext();
    (ext.exitHooks ??= []).push(hook);
    return () => {
      const hooks = ext.exitHooks;
      if (hooks === null) return;
      const i = hooks.indexOf(hook);
      if (i >= 0) hooks.splice(i, 1);
      if (hooks.length === 0) ext.exitHooks = null;
    };
  }

  /** @internal Called by the scheduler. */
  runTurn(): number {
    if (this.status === DEAD) return 1;
    const resume = this.resume;
    if (resume !== null) {
      const value = this.resumeValue;
      this.resume = null;
      this.resumeValue = undefined;
      this.reductions++;
      resume(value);
      return 1;
    }
    if (this.entry !== null) {
      this.reductions++;
      this.#start();
      return 1;
    }
    const handled = this.#handleBatch();
    this.reductions += handled;
    return handled;
  }

  #start(): void {
    const entry = this.entry;
    this.entry = null;
    this.status = ALIVE;
    if (entry === null) return;
    if (this.isLoop) {
      this.#startLoop(entry as LoopInit);
      return;
    }
    let result: unknown;
    try {
      result = (entry as ProcessBody)(this);
    } catch (err) {
      this.bodyFailed(err);
      return;
    }
    if (isThenable(result)) {
      // Bound methods need no closure context: this pair is most of an idle process's overhead.
      result.then(this.bodyReturned.bind(this), this.bodyFailed.bind(this));
    } else {
      this.bodyReturned(result);
    }
  }

  /** @internal */
  bodyReturned(value: unknown): void {
    if (this.status === DEAD) return;
    this.rt.finish(this, value);
  }

  /** @internal */
  bodyFailed(err: unknown): void {
    if (err instanceof ProcessExit || this.status === DEAD) return;
    this.rt.crash(this, err);
  }

  #startLoop(init: LoopInit): void {
    let result: LoopStart | PromiseLike<LoopStart>;
    try {
      result = init(this);
    } catch (err) {
      this.bodyFailed(err);
      return;
    }
    if (isThenable(result)) {
      this.busy = true;
      result.then(
        (start) => {
          this.busy = false;
          this.#installLoop(start);
        },
        (err: unknown) => {
          this.busy = false;
          this.bodyFailed(err);
        },
      );
    } else {
      this.#installLoop(result);
    }
  }

  #installLoop(start: LoopStart): void {
    if (this.status === DEAD) return;
    this.loop = start.handler;
    if (start.after !== undefined) {
      let result: void | PromiseLike<void>;
      try {
        result = start.after();
      } catch (err) {
        this.bodyFailed(err);
        return;
      }
      if (this.status === DEAD) return;
      if (result !== undefined && isThenable(result)) {
        this.#waitForHandler(result);
        return;
      }
    }
    if (this.queueLength > 0) this.rt.scheduler.enqueue(this);
  }

  #handleBatch(): number {
    const handler = this.loop;
    const mb = this.mailbox;
    if (handler === null || mb === null || this.busy) return 1;
    const max = this.rt.scheduler.maxBatch;
    let n = 0;
    while (n < max && mb.length > 0) {
      const msg = mb.shift();
      n++;
      let result: void | PromiseLike<void>;
      try {
        result = msg instanceof TracedMessage ? this.#handleTraced(handler, msg) : handler.handle(msg);
      } catch (err) {
        this.bodyFailed(err);
        return n;
      }
      if (this.status === DEAD) return n;
      if (result !== undefined && isThenable(result)) {
        this.#waitForHandler(result);
        return n;
      }
      if (this.waitResolve !== null || this.resume !== null) return n;
    }
    if (mb.length > 0) this.rt.scheduler.enqueue(this);
    return n;
  }

  /** Hands a traced message to the handler inside its `fdn.receive` span, active while the handler runs. */
  #handleTraced(handler: MessageHandler, msg: TracedMessage): void | PromiseLike<void> {
    const span = handling(msg, this.self.toString());
    let result: void | PromiseLike<void>;
    try {
      result = withSpan(span, () => handler.handle(msg.message));
    } catch (err) {
      fail(span, err);
      throw err;
    }
    if (result === undefined || !isThenable(result)) {
      span.end();
      return result;
    }
    return endWith(span, result);
  }

  /** An async handler runs: the process is busy, its messages wait, until it settles. */
  #waitForHandler(result: PromiseLike<void>): void {
    this.busy = true;
    result.then(
      () => {
        this.#asyncHandlerDone();
      },
      (err: unknown) => {
        this.#asyncHandlerFailed(err);
      },
    );
  }

  #asyncHandlerDone(): void {
    this.busy = false;
    if (this.status !== DEAD && this.queueLength > 0) this.rt.scheduler.enqueue(this);
  }

  #asyncHandlerFailed(err: unknown): void {
    this.busy = false;
    this.bodyFailed(err);
  }

  /** @internal Marks the process dead and drops its pending receive; the runtime does the rest. */
  markDead(): void {
    this.status = DEAD;
    this.entry = null;
    this.loop = null;
    this.waitResolve = null;
    this.waitMatch = null;
    this.resume = null;
    this.resumeValue = undefined;
    if (this.waitTimer !== null) {
      this.rt.clock.clearTimer(this.waitTimer);
      this.waitTimer = null;
    }
  }

  /** @internal Handles an exit signal sent to this process. */
  signal(from: Pid, reason: ExitReason, untrappable: boolean): void {
    if (this.status === DEAD) return;
    if (untrappable) {
      this.rt.terminate(this, 'killed');
    } else if (this.trapping) {
      this.deliver(new ExitMessageImpl(from, reason));
    } else if (reason === 'normal') {
      if (from === this.self) this.rt.terminate(this, 'normal');
    } else {
      this.rt.terminate(this, reason);
    }
  }

  /** @internal Delivers a DOWN and forgets the monitor on the watcher's side. */
  down(ref: Ref, pid: Pid, reason: ExitReason): void {
    if (this.status === DEAD) return;
    this.watching?.delete(ref);
    const name = this.watchingNames?.get(ref);
    if (name === undefined) {
      this.deliver(new DownMessageImpl(ref, pid, pid, reason));
      return;
    }
    this.watchingNames?.delete(ref);
    this.deliver(new DownMessageImpl(ref, name, pid, reason));
  }

  toString(): string {
    return this.self.toString();
  }
}

/** Messages a mailbox bound never drops: exit signals and DOWNs as messages, replies (aliases), system requests. */
export function isSystemMessage(msg: unknown): boolean {
  return msg instanceof ExitMessageImpl || msg instanceof DownMessageImpl || msg instanceof AliasMessage || msg instanceof SystemRequest;
}

/** The index of the oldest message the bound may drop, or -1. */
function firstOrdinary(mb: Ring<unknown>): number {
  for (let i = 0; i < mb.length; i++) if (!isSystemMessage(mb.at(i))) return i;
  return -1;
}
