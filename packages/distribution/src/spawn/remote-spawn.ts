// Remote spawn: a process asks another node to start a behaviour registered in that node's
// process factory, optionally linked to or monitored by the asker from the first instant (the
// target sets the link or monitor up before the process runs and before it answers). Nothing
// received over the wire runs as code: a request names a behaviour and carries data.
//
//   [SpawnRequest, id, behaviour, args, requester | null, link, monitorRef | null, system, traceContext?]
//   [SpawnReply, id, pid | null, errorCode | null, message | null]
//
// `system` names one of the node's own behaviours (ecosystem slots and candidates), kept in a
// factory apart from the user's: a peer's ordinary spawn cannot reach them.

import { Pid, Ref } from '@fdn/actors';
import type { ProcessContext, Runtime } from '@fdn/actors';
import { Tracing } from '@fdn/actors/internal';
import type { Clock, TimerHandle } from '@fdn/core';
import { DistributionError, DistributionErrorCode } from '../errors/errors.ts';
import { ProcessFactory } from '../factory/factory.ts';
import { Kind } from '../node/protocol.ts';
import type { Message } from '../node/protocol.ts';
import type { Dispatcher } from '../node/dispatch.ts';
import type { RemoteSpawnOptions } from '../node/options.ts';
import type { RemoteSignals } from '../signals/remote-signals.ts';
import { SpawnLimiter } from './spawn-limits.ts';
import type { SpawnLimits } from './spawn-limits.ts';

/** What remote spawn needs from its node. */
export interface RemoteSpawnHost {
  readonly name: string;
  readonly runtime: Runtime;
  readonly clock: Clock;
  readonly signals: RemoteSignals;
  send(node: string, message: Message): void;
  isUp(node: string): boolean;
  explainNoconnection(node: string): string;
}

interface PendingSpawn {
  node: string;
  resolve: (pid: Pid) => void;
  reject: (err: Error) => void;
  timer: TimerHandle;
}

/** Spawning on other nodes and serving their spawns here (see the file comment). */
/** A trace context from a peer: an object of at most 8 short strings. */
function isCarrier(x: unknown): x is Record<string, string> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const entries = Object.entries(x as Record<string, unknown>);
  return entries.length <= 8 && entries.every(([k, v]) => typeof v === 'string' && k.length <= 64 && v.length <= 1024);
}

export class RemoteSpawn {
  /** The behaviours other nodes may spawn here (the user's: `node.factory.register`). */
  readonly factory: ProcessFactory;
  /** The node's own spawnable behaviours (ecosystem slots and candidates), apart from the user's. */
  readonly systemFactory: ProcessFactory;
  readonly #limits: SpawnLimiter;
  readonly #pending = new Map<number, PendingSpawn>();
  #nextId = 1;

  constructor(
    private readonly host: RemoteSpawnHost,
    limits: SpawnLimits | undefined,
    private readonly timeoutMs: number,
  ) {
    this.factory = new ProcessFactory(host.runtime);
    this.systemFactory = new ProcessFactory(host.runtime);
    this.#limits = new SpawnLimiter(host.name, host.clock, limits, (b) => this.factory.maxProcesses(b));
  }

  register(dispatch: Dispatcher): void {
    dispatch.register(Kind.SpawnRequest, (from, m) => {
      void this.#serve(from, m);
    });
    dispatch.register(Kind.SpawnReply, (from, [, id, pid, code, text]) => {
      if (typeof id !== 'number') return;
      const pending = this.#pending.get(id);
      if (pending?.node !== from) return;
      this.#pending.delete(id);
      this.host.clock.clearTimer(pending.timer);
      if (pid instanceof Pid) pending.resolve(pid);
      else pending.reject(new DistributionError((typeof code === 'string' ? code : DistributionErrorCode.SPAWN_FAILED), typeof text === 'string' ? text : `spawn on ${from} failed`));
    });
  }

  /** Spawns `behaviour` on `node` (this one included): see `Node.spawn`. Traced as `fdn.spawn` when a span is active. */
  spawn(ctx: ProcessContext | null, node: string, behaviour: string, args: unknown[], options: RemoteSpawnOptions, system: boolean): Promise<{ pid: Pid; ref: Ref | null }> {
    const span = Tracing.tracing() ? Tracing.startOutgoing('fdn.spawn', Tracing.SpanKind.CLIENT, { 'fdn.behaviour': behaviour, 'fdn.node': node }) : null;
    if (span === null) return this.#spawn(ctx, node, behaviour, args, options, system, null);
    return Tracing.endWith(span, this.#spawn(ctx, node, behaviour, args, options, system, span));
  }

  async #spawn(ctx: ProcessContext | null, node: string, behaviour: string, args: unknown[], options: RemoteSpawnOptions, system: boolean, span: Tracing.Span | null): Promise<{ pid: Pid; ref: Ref | null }> {
    const { host } = this;
    if ((options.link === true || options.monitor === true) && ctx === null) throw new DistributionError(DistributionErrorCode.BAD_ARGUMENT, 'spawn with link or monitor needs the calling process: pass its ctx (or spawn from runtime.run)');
    if (node === host.name) {
      const pid = await this.#start(host.name, behaviour, args, system);
      if (options.link === true) ctx?.link(pid);
      return { pid, ref: options.monitor === true && ctx !== null ? ctx.monitor(pid) : null };
    }
    if (!host.isUp(node)) throw new DistributionError(DistributionErrorCode.NOCONNECTION, `cannot spawn '${behaviour}' on ${node}: ${host.explainNoconnection(node)}`);
    const requester = ctx?.self ?? null;
    const ref = options.monitor === true ? host.runtime.makeRef() : null;
    const id = this.#nextId++;
    const pid = await new Promise<Pid>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.timeoutMs;
      const timer = host.clock.setTimer(timeoutMs, () => {
        this.#pending.delete(id);
        reject(new DistributionError(DistributionErrorCode.SPAWN_TIMEOUT, `spawn of '${behaviour}' on ${node}: no answer within ${String(timeoutMs)} ms`));
      });
      this.#pending.set(id, { node, resolve, reject, timer });
      const request = [Kind.SpawnRequest, id, behaviour, args, requester, options.link === true, ref, system] as const;
      host.send(node, span === null ? request : [...request, Tracing.carrierOf(span)]);
    });
    // The target linked/monitored on its side before the process ran; record ours to match.
    if (ctx !== null && options.link === true && host.signals.endpoint.adoptLink(ctx.self, pid)) host.signals.trackLink(ctx.self, pid);
    if (ctx !== null && ref !== null && host.signals.endpoint.adoptMonitor(ctx.self, pid, ref)) host.signals.trackWatching(ctx.self, pid, ref);
    return { pid, ref };
  }

  /** `node` is lost: its spawns in flight fail with FDN_ERR_NOCONNECTION. */
  nodeLost(node: string, why: string): void {
    for (const [id, spawn] of this.#pending) {
      if (spawn.node !== node) continue;
      this.#pending.delete(id);
      this.host.clock.clearTimer(spawn.timer);
      spawn.reject(new DistributionError(DistributionErrorCode.NOCONNECTION, `spawn on ${node}: the node was lost (${why})`));
    }
  }

  /** The node stops: spawns waiting for an answer fail with FDN_ERR_STOPPED. */
  stop(): void {
    for (const [id, s] of this.#pending) {
      this.host.clock.clearTimer(s.timer);
      s.reject(new DistributionError(DistributionErrorCode.STOPPED, `${this.host.name} was stopped while the spawn on ${s.node} waited for its answer`));
      this.#pending.delete(id);
    }
  }

  /** Starts a spawned behaviour here, within the limits: from the user's factory, or the node's own. */
  async #start(from: string, behaviour: string, args: unknown[], system: boolean): Promise<Pid> {
    if (!system) this.#limits.admit(from, behaviour, this.host.runtime.processCount);
    const pid = await (system ? this.systemFactory : this.factory).start(behaviour, args);
    if (!system) this.#limits.started(behaviour, pid, this.host.signals.endpoint);
    return pid;
  }

  async #serve(from: string, m: Message): Promise<void> {
    const [, id, behaviour, args, requester, link, ref, system, carrier] = m;
    if (typeof id !== 'number' || typeof behaviour !== 'string' || !Array.isArray(args)) return;
    const { host } = this;
    let pid: Pid;
    try {
      pid = isCarrier(carrier)
        ? await Tracing.withIncoming('fdn.spawn.start', Tracing.SpanKind.SERVER, carrier, Tracing.nowMs(), { 'fdn.behaviour': behaviour, 'fdn.node': host.name }, (span) => Tracing.endWith(span, this.#start(from, behaviour, args, system === true)))
        : await this.#start(from, behaviour, args, system === true);
    } catch (err) {
      const e = err as DistributionError;
      host.send(from, [Kind.SpawnReply, id, null, e.code, e.message]);
      return;
    }
    // Linked or monitored before the reply leaves: an exit right after start is not missed.
    if (requester instanceof Pid && requester.node === from) {
      if (link === true && host.signals.endpoint.link(requester, pid)) host.signals.trackLink(pid, requester);
      if (ref instanceof Ref && host.signals.endpoint.monitor(requester, pid, ref)) host.signals.trackWatchedBy(from, pid, ref);
    }
    host.send(from, [Kind.SpawnReply, id, pid, null, null]);
    // Dead already: the remote side learns it through the link or monitor set up above.
    if (!host.runtime.isAlive(pid) && requester instanceof Pid) {
      if (link === true) host.send(from, [Kind.LinkExit, pid, requester, 'noproc']);
      if (ref instanceof Ref) host.send(from, [Kind.Down, requester, ref, pid, 'noproc']);
    }
  }
}
