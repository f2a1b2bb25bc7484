// The supervisor process: a GenServer that traps exits, starts its children in order, restarts
// them per its strategy within its restart intensity, and stops them in reverse order.

import { ActorError, ErrorCode, StartError } from '../errors.ts';
import { ExitMessageImpl, formatReason, isNormalExit } from '../exit/reason.ts';
import type { ExitReason } from '../exit/reason.ts';
import type { CallResult, GenServerBehaviour, InitResult, NoReplyResult } from '../gen-server/types.ts';
import { Pid } from '../pid/pid.ts';
import { toProcess } from '../process/process.ts';
import type { Process } from '../process/process.ts';
import type { ProcessContext } from '../process/types.ts';
import { summarize } from '../util/inspect.ts';
import { shutdownChild, shutdownChildren } from './shutdown.ts';
import { normalizeChildSpec, normalizeSupervisorSpec } from './spec.ts';
import type { NormalizedChildSpec, NormalizedSupervisorSpec } from './spec.ts';
import type { AnyChildSpec, ChildCounts, ChildInfo, SupervisorSpec } from './types.ts';

/** @internal One child as the supervisor tracks it. */
interface Child {
  spec: NormalizedChildSpec;
  pid: Pid | null;
  restarting: boolean;
  /** Extra start arguments (simpleOneForOne children). */
  args: unknown[];
}

/** @internal Requests the client functions send. */
export type SupervisorRequest =
  | { op: 'startChild'; spec: AnyChildSpec }
  | { op: 'startDynamic'; args: unknown[] }
  | { op: 'terminateChild'; child: string | Pid }
  | { op: 'restartChild'; id: string }
  | { op: 'deleteChild'; id: string }
  | { op: 'whichChildren' }
  | { op: 'countChildren' };

/** @internal Replies carry an error instead of throwing inside the supervisor. */
export type SupervisorReply = { ok: unknown } | { error: Error };

/** Sent to itself when a restart failed, to try again (each try counts against intensity). */
class TryAgain {
  constructor(readonly child: Child) {}
}

type StartOutcome = { kind: 'ok'; pid: Pid } | { kind: 'ignore' } | { kind: 'error'; reason: unknown };

/** @internal The state of a running supervisor. */
export class SupervisorState {
  readonly strategy: NormalizedSupervisorSpec['strategy'];
  readonly intensity: number;
  readonly periodMs: number;
  /** Static children in start order; for simpleOneForOne, the running dynamic children. */
  children: Child[] = [];
  /** simpleOneForOne's template. */
  readonly template: NormalizedChildSpec | null;
  /** Times of recent restarts, oldest first. */
  restarts: number[] = [];
  readonly initialChildren: NormalizedChildSpec[];

  constructor(
    readonly ctx: Process,
    spec: NormalizedSupervisorSpec,
  ) {
    this.strategy = spec.strategy;
    this.intensity = spec.intensity;
    this.periodMs = spec.periodMs;
    this.template = spec.strategy === 'simpleOneForOne' ? (spec.children[0] ?? null) : null;
    this.initialChildren = spec.strategy === 'simpleOneForOne' ? [] : spec.children;
  }

  get isSimple(): boolean {
    return this.template !== null;
  }

  // ==== Starting ====

  async startChild(child: Child): Promise<StartOutcome> {
    let result: unknown;
    try {
      result = await child.spec.start(this.ctx, ...child.args);
    } catch (err) {
      if (err instanceof StartError && err.reason === 'ignore') return { kind: 'ignore' };
      return { kind: 'error', reason: err instanceof StartError ? err.reason : err };
    }
    if (result === 'ignore') return { kind: 'ignore' };
    if (!(result instanceof Pid)) {
      return {
        kind: 'error',
        reason: new ActorError(ErrorCode.BAD_RETURN_VALUE, `child '${child.spec.id}': start returned ${summarize(result, 100)}; it must return a pid or 'ignore'`),
      };
    }
    // The start function should have linked the child; linking again is harmless and makes
    // sure an exit reaches us (a child already dead gives EXIT noproc, handled as a failure).
    this.ctx.link(result);
    child.pid = result;
    child.restarting = false;
    return { kind: 'ok', pid: result };
  }

  /** Starts the initial children in order; on a failure stops those started, in reverse. */
  async startInitialChildren(): Promise<InitResult<SupervisorState>> {
    for (const spec of this.initialChildren) {
      const child: Child = { spec, pid: null, restarting: false, args: [] };
      const outcome = await this.startChild(child);
      if (outcome.kind === 'error') {
        this.#reportError('startError', child, outcome.reason);
        await this.stopChildren(this.children);
        return { type: 'stop', reason: { shutdown: { failedToStartChild: spec.id, reason: outcome.reason } } };
      }
      this.children.push(child);
    }
    return { type: 'ok', state: this };
  }

  // ==== Exits and restarts ====

  async onExit(msg: ExitMessageImpl): Promise<NoReplyResult<SupervisorState>> {
    const child = this.children.find((c) => c.pid?.equals(msg.from) === true);
    if (child === undefined) return { type: 'noreply', state: this };
    child.pid = null;
    const reason = msg.reason;
    if (!isNormalExit(reason)) this.#reportError('childTerminated', child, reason);
    const restart = child.spec.restart === 'permanent' || (child.spec.restart === 'transient' && !isNormalExit(reason));
    if (!restart) {
      if (this.isSimple || child.spec.restart === 'temporary') this.#remove(child);
      return { type: 'noreply', state: this };
    }
    return this.restart(child, reason);
  }

  async onTryAgain(msg: TryAgain): Promise<NoReplyResult<SupervisorState>> {
    const child = msg.child;
    if (!this.children.includes(child) || child.pid !== null) return { type: 'noreply', state: this };
    return this.restart(child, 'restart_failed');
  }

  async restart(child: Child, reason: ExitReason): Promise<NoReplyResult<SupervisorState>> {
    const rt = this.ctx.rt;
    if (!this.#addRestart()) {
      rt.logger.error(`supervisor ${this.#name()} reached its maximum restart intensity; shutting down`, {
        supervisor: this.ctx.self.toString(),
        child: child.spec.id,
        intensity: this.intensity,
        periodMs: this.periodMs,
        reason,
      });
      if (rt.telemetry.active) rt.telemetry.emit('fdn.actors.supervisor.shutdown', { restarts: this.restarts.length }, { supervisor: this.ctx.self, child: child.spec.id });
      return { type: 'stop', reason: 'shutdown', state: this };
    }
    if (rt.telemetry.active) {
      rt.telemetry.emit('fdn.actors.supervisor.restart', { restarts: this.restarts.length }, { supervisor: this.ctx.self, child: child.spec.id, strategy: this.strategy, reason });
    }
    switch (this.strategy) {
      case 'oneForOne':
      case 'simpleOneForOne':
        await this.#restartGroup(child, [child]);
        break;
      case 'oneForAll':
        await this.#restartGroup(child, this.children.slice());
        break;
      case 'restForOne':
        await this.#restartGroup(child, this.children.slice(this.children.indexOf(child)));
        break;
    }
    return { type: 'noreply', state: this };
  }

  /** Stops the running members of `group` (reverse order), then starts them again in order. */
  async #restartGroup(failed: Child, group: Child[]): Promise<void> {
    for (const c of group.slice().reverse()) {
      if (c !== failed && c.pid !== null) {
        await this.#shutdown(c);
        c.pid = null;
      }
    }
    for (const c of group) {
      if (c !== failed && c.spec.restart === 'temporary') {
        // OTP: a temporary child stopped because a sibling failed is not restarted.
        this.#remove(c);
        continue;
      }
      const outcome = await this.startChild(c);
      if (outcome.kind === 'ignore') continue;
      if (outcome.kind === 'error') {
        this.#reportError('startError', c, outcome.reason);
        c.restarting = true;
        for (const rest of group.slice(group.indexOf(c) + 1)) rest.restarting = rest.pid === null;
        this.ctx.send(this.ctx.self, new TryAgain(c));
        return;
      }
    }
  }

  /** OTP's restart intensity: is one more restart now within `intensity` per `periodMs`? */
  #addRestart(): boolean {
    const now = this.ctx.rt.clock.now();
    const horizon = now - this.periodMs;
    // A restart exactly `periodMs` ago no longer counts.
    this.restarts = this.restarts.filter((t) => t > horizon);
    this.restarts.push(now);
    return this.restarts.length <= this.intensity;
  }

  // ==== Stopping ====

  async #shutdown(child: Child): Promise<void> {
    const pid = child.pid;
    if (pid === null) return;
    this.#checkShutdown(child, await shutdownChild(this.ctx, pid, child.spec.shutdown));
  }

  #checkShutdown(child: Child, reason: ExitReason): void {
    const expected = child.spec.shutdown === 'brutal_kill' ? 'killed' : 'shutdown';
    if (reason !== expected && !isNormalExit(reason) && reason !== 'noproc') this.#reportError('shutdownError', child, reason);
  }

  /** Stops `children`: in reverse start order, or all at once for simpleOneForOne. */
  async stopChildren(children: Child[]): Promise<void> {
    if (this.isSimple) {
      const running = children.filter((c) => c.pid !== null);
      const shutdown = running[0]?.spec.shutdown ?? 'infinity';
      const reasons = await shutdownChildren(this.ctx, running.map((c) => c.pid as Pid), shutdown);
      running.forEach((c, i) => {
        this.#checkShutdown(c, reasons[i]);
      });
    } else {
      for (const c of children.slice().reverse()) await this.#shutdown(c);
    }
    for (const c of children) c.pid = null;
  }

  // ==== Requests ====

  async handle(req: SupervisorRequest): Promise<SupervisorReply> {
    try {
      return { ok: await this.#dispatch(req) };
    } catch (err) {
      return { error: err as Error };
    }
  }

  async #dispatch(req: SupervisorRequest): Promise<unknown> {
    switch (req.op) {
      case 'startChild':
        return this.#startNew(req.spec);
      case 'startDynamic':
        return this.#startDynamic(req.args);
      case 'terminateChild':
        return this.#terminate(req.child);
      case 'restartChild':
        return this.#restartById(req.id);
      case 'deleteChild':
        { this.#deleteById(req.id); return; }
      case 'whichChildren':
        return this.whichChildren();
      case 'countChildren':
        return this.countChildren();
    }
  }

  async #startNew(raw: AnyChildSpec): Promise<Pid | undefined> {
    if (this.isSimple) throw new ActorError(ErrorCode.SIMPLE_ONE_FOR_ONE, 'a simpleOneForOne supervisor starts children from its template: pass the extra start arguments as an array');
    const spec = normalizeChildSpec(raw);
    const existing = this.children.find((c) => c.spec.id === spec.id);
    if (existing !== undefined) {
      if (existing.pid !== null) {
        throw new ActorError(ErrorCode.CHILD_ALREADY_PRESENT, `child '${spec.id}' is already running as ${existing.pid}`, { reason: { alreadyStarted: existing.pid } });
      }
      throw new ActorError(ErrorCode.CHILD_ALREADY_PRESENT, `a child spec with id '${spec.id}' already exists; restartChild or deleteChild it`, { reason: 'alreadyPresent' });
    }
    const child: Child = { spec, pid: null, restarting: false, args: [] };
    const outcome = await this.startChild(child);
    if (outcome.kind === 'error') throw new StartError(ErrorCode.START_FAILED, `child '${spec.id}' failed to start: ${formatReason(outcome.reason)}`, { reason: outcome.reason });
    this.children.push(child);
    return outcome.kind === 'ok' ? outcome.pid : undefined;
  }

  async #startDynamic(args: unknown[]): Promise<Pid | undefined> {
    const template = this.template;
    if (template === null) throw new ActorError(ErrorCode.BAD_ARGUMENT, 'only a simpleOneForOne supervisor starts children from arguments; pass a child spec');
    const child: Child = { spec: template, pid: null, restarting: false, args };
    const outcome = await this.startChild(child);
    if (outcome.kind === 'error') throw new StartError(ErrorCode.START_FAILED, `child '${template.id}' failed to start: ${formatReason(outcome.reason)}`, { reason: outcome.reason });
    if (outcome.kind === 'ok') this.children.push(child);
    return outcome.kind === 'ok' ? outcome.pid : undefined;
  }

  async #terminate(target: string | Pid): Promise<void> {
    if (this.isSimple) {
      if (!(target instanceof Pid)) throw new ActorError(ErrorCode.SIMPLE_ONE_FOR_ONE, 'terminateChild on a simpleOneForOne supervisor takes the child pid');
      const child = this.children.find((c) => c.pid?.equals(target) === true);
      if (child === undefined) throw new ActorError(ErrorCode.CHILD_NOT_FOUND, `${target} is not a child of this supervisor`);
      await this.#shutdown(child);
      this.#remove(child);
      return;
    }
    const child = this.#byId(typeof target === 'string' ? target : undefined, target instanceof Pid ? target : undefined);
    await this.#shutdown(child);
    child.pid = null;
    child.restarting = false;
    if (child.spec.restart === 'temporary') this.#remove(child);
  }

  async #restartById(id: string): Promise<Pid | undefined> {
    if (this.isSimple) throw new ActorError(ErrorCode.SIMPLE_ONE_FOR_ONE, 'restartChild does not apply to a simpleOneForOne supervisor');
    const child = this.#byId(id);
    if (child.pid !== null) throw new ActorError(ErrorCode.CHILD_RUNNING, `child '${id}' is running; terminateChild it first`);
    const outcome = await this.startChild(child);
    if (outcome.kind === 'error') throw new StartError(ErrorCode.START_FAILED, `child '${id}' failed to start: ${formatReason(outcome.reason)}`, { reason: outcome.reason });
    return outcome.kind === 'ok' ? outcome.pid : undefined;
  }

  #deleteById(id: string): void {
    if (this.isSimple) throw new ActorError(ErrorCode.SIMPLE_ONE_FOR_ONE, 'deleteChild does not apply to a simpleOneForOne supervisor');
    const child = this.#byId(id);
    if (child.pid !== null || child.restarting) throw new ActorError(ErrorCode.CHILD_RUNNING, `child '${id}' is running; terminateChild it first`);
    this.#remove(child);
  }

  /** Newest first, as OTP's `which_children/1` lists them (its child list is kept in reverse start order). */
  whichChildren(): ChildInfo[] {
    return [...this.children].reverse().map((c) => ({
      id: c.spec.id,
      pid: c.pid ?? (c.restarting ? 'restarting' : undefined),
      type: c.spec.type,
      restart: c.spec.restart,
    }));
  }

  countChildren(): ChildCounts {
    const template = this.template;
    if (template !== null) {
      // As OTP's count_children of a simple_one_for_one: one spec (the template), and its type counts every dynamic child.
      const active = this.children.filter((c) => c.pid !== null).length;
      const all = this.children.length;
      return { specs: 1, active, supervisors: template.type === 'supervisor' ? all : 0, workers: template.type === 'supervisor' ? 0 : all };
    }
    let active = 0;
    let supervisors = 0;
    for (const c of this.children) {
      if (c.pid !== null) active++;
      if (c.spec.type === 'supervisor') supervisors++;
    }
    return { specs: this.children.length, active, supervisors, workers: this.children.length - supervisors };
  }

  // ==== Helpers ====

  #byId(id?: string, pid?: Pid): Child {
    const child = this.children.find((c) => (id !== undefined ? c.spec.id === id : c.pid !== null && pid !== undefined && c.pid.equals(pid)));
    if (child === undefined) throw new ActorError(ErrorCode.CHILD_NOT_FOUND, `no child '${String(id ?? pid)}' in this supervisor`);
    return child;
  }

  #remove(child: Child): void {
    const i = this.children.indexOf(child);
    if (i >= 0) this.children.splice(i, 1);
  }

  #reportError(kind: 'startError' | 'childTerminated' | 'shutdownError', child: Child, reason: unknown): void {
    this.ctx.rt.logger.error(`supervisor ${this.#name()}: ${kind} of child '${child.spec.id}'`, {
      supervisor: this.ctx.self.toString(),
      kind,
      child: child.spec.id,
      pid: child.pid?.toString(),
      reason,
    });
  }

  #name(): string {
    return this.ctx.extras?.name ?? this.ctx.self.toString();
  }
}

/** @internal The Supervisor as a GenServer behaviour. */
export const supervisorBehaviour: GenServerBehaviour<SupervisorState, SupervisorSpec | ((ctx: ProcessContext) => SupervisorSpec), SupervisorRequest, SupervisorReply, never> = {
  async init(specOrFactory, ctx) {
    ctx.trapExit(true);
    const raw = typeof specOrFactory === 'function' ? specOrFactory(ctx) : specOrFactory;
    const state = new SupervisorState(toProcess(ctx), normalizeSupervisorSpec(raw));
    return state.startInitialChildren();
  },
  async handleCall(req, _from, state): Promise<CallResult<SupervisorState, SupervisorReply>> {
    return { type: 'reply', reply: await state.handle(req), state };
  },
  handleInfo(msg, state): NoReplyResult<SupervisorState> | Promise<NoReplyResult<SupervisorState>> {
    if (msg instanceof ExitMessageImpl) return state.onExit(msg);
    if (msg instanceof TryAgain) return state.onTryAgain(msg);
    state.ctx.rt.logger.warn(`supervisor ${state.ctx.self} received an unexpected message`, { message: summarize(msg) });
    return { type: 'noreply', state };
  },
  async terminate(_reason, state) {
    await state.stopChildren(state.children);
  },
  formatStatus(state) {
    return { strategy: state.strategy, children: state.whichChildren().map((c) => `${c.id}:${String(c.pid)}`) };
  },
};
