// A node's process factory: the behaviours it lets other nodes spawn, by name. A remote spawn
// names a registered behaviour and carries arguments (data); nothing received runs as code.
// Each behaviour gets a simpleOneForOne supervisor on this node, so remotely spawned processes
// live in this node's supervision tree.

import { GenServer, Supervisor } from '@fdn/actors';
import type { GenServerBehaviour, Pid, ProcessContext, RestartType, Runtime } from '@fdn/actors';
import { DistributionError, DistributionErrorCode } from '../errors/errors.ts';

/** How a factory starts a process: linked to `ctx` (the factory's supervisor), with the spawn's arguments. */
export type FactoryStart = (ctx: ProcessContext, ...args: unknown[]) => Pid | Promise<Pid>;

/** A process body that gets the spawn's arguments after `ctx`. */
export type SpawnBody = (ctx: ProcessContext, ...args: never[]) => unknown;

/** What can be registered: a GenServer behaviour (started with the first argument), a process body, or a start function. */
export type Spawnable = { kind: 'genServer'; behaviour: GenServerBehaviour<unknown, unknown> } | { kind: 'body'; body: (ctx: ProcessContext, ...args: unknown[]) => unknown } | { kind: 'start'; start: FactoryStart };

/** Options of `factory.register`: how spawned processes restart and how many may live. */
export interface RegisterOptions {
  /** Restart type of the spawned processes under the factory's supervisor (default `temporary`: a remote spawner holds the pid, a restart would give a new one). */
  restart?: RestartType;
  /** At most this many live processes of this behaviour (below the node's `spawnLimits.perBehaviour`). */
  maxProcesses?: number;
}

interface Entry {
  start: FactoryStart;
  restart: RestartType;
  maxProcesses: number | undefined;
  supervisor: Promise<Pid> | null;
}

/** Names of behaviours that may be spawned on this node from others. */
export class ProcessFactory {
  readonly #entries = new Map<string, Entry>();

  constructor(readonly runtime: Runtime) {}

  /**
   * Allows other nodes to spawn `spawnable` as `name`. A GenServer behaviour is started with the
   * spawn's first argument as its init argument; a process body gets the arguments after `ctx`.
   */
  register<S, A, C, R, K>(name: string, spawnable: GenServerBehaviour<S, A, C, R, K> | SpawnBody | Spawnable, options: RegisterOptions = {}): void {
    if (typeof name !== 'string' || name === '') throw new DistributionError(DistributionErrorCode.BAD_CONFIG, 'a factory name must be a non-empty string');
    if (this.#entries.has(name)) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `'${name}' is already registered in this node's process factory`);
    if (options.maxProcesses !== undefined && !(Number.isInteger(options.maxProcesses) && options.maxProcesses >= 0)) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `maxProcesses of '${name}' must be a non-negative integer`);
    this.#entries.set(name, { start: toStart(spawnable), restart: options.restart ?? 'temporary', maxProcesses: options.maxProcesses, supervisor: null });
  }

  /** Stops allowing `name` (processes already spawned keep running). */
  unregister(name: string): boolean {
    return this.#entries.delete(name);
  }

  /** The registered names. */
  names(): string[] {
    return [...this.#entries.keys()].sort();
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** The `maxProcesses` `name` was registered with, if any. */
  maxProcesses(name: string): number | undefined {
    return this.#entries.get(name)?.maxProcesses;
  }

  /** Starts `name` with `args` linked to `ctx`'s process (a supervisor of the caller's own, e.g. an ecosystem slot). */
  startLinked(ctx: ProcessContext, name: string, args: unknown[]): Pid | Promise<Pid> {
    const entry = this.#entries.get(name);
    if (entry === undefined) {
      throw new DistributionError(DistributionErrorCode.UNKNOWN_BEHAVIOUR, `no behaviour '${name}' in the process factory of ${this.runtime.node} (registered: ${this.names().join(', ') || 'none'})`);
    }
    return entry.start(ctx, ...args);
  }

  /** Starts `name` with `args` under its supervisor; throws FDN_ERR_UNKNOWN_BEHAVIOUR or FDN_ERR_SPAWN_FAILED. */
  async start(name: string, args: unknown[]): Promise<Pid> {
    const entry = this.#entries.get(name);
    if (entry === undefined) {
      throw new DistributionError(DistributionErrorCode.UNKNOWN_BEHAVIOUR, `no behaviour '${name}' in the process factory of ${this.runtime.node} (registered: ${this.names().join(', ') || 'none'})`);
    }
    entry.supervisor ??= Supervisor.start(this.runtime, {
      strategy: 'simpleOneForOne',
      intensity: 100,
      periodMs: 1_000,
      children: [{ id: name, restart: entry.restart, start: (ctx: ProcessContext, ...a: unknown[]) => entry.start(ctx, ...a) }],
    });
    let pid: Pid | undefined;
    try {
      pid = await Supervisor.startChild(this.runtime, await entry.supervisor, args);
    } catch (err) {
      throw new DistributionError(DistributionErrorCode.SPAWN_FAILED, `'${name}' failed to start on ${this.runtime.node}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    if (pid === undefined) throw new DistributionError(DistributionErrorCode.SPAWN_FAILED, `'${name}' on ${this.runtime.node} chose not to start ('ignore')`);
    return pid;
  }
}

function toStart<S, A, C, R, K>(s: GenServerBehaviour<S, A, C, R, K> | SpawnBody | Spawnable): FactoryStart {
  const given: unknown = s;
  if (typeof given !== 'function' && (typeof given !== 'object' || given === null)) {
    throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `register a GenServer behaviour (an object with init), a process body (a function), or { kind: 'genServer' | 'body' | 'start', … }; got ${given === null ? 'null' : typeof given}`);
  }
  if (typeof s === 'function') return (ctx, ...args) => ctx.spawnLink((c) => (s as (ctx: ProcessContext, ...a: unknown[]) => unknown)(c, ...args));
  if ('kind' in s) {
    const kind: unknown = s.kind;
    if (kind !== 'genServer' && kind !== 'body' && kind !== 'start') throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `unknown spawnable kind ${JSON.stringify(kind)}: use 'genServer', 'body' or 'start'`);
    switch (s.kind) {
      case 'genServer':
        return (ctx, arg) => GenServer.startLink(ctx, s.behaviour, arg);
      case 'body':
        return (ctx, ...args) => ctx.spawnLink((c) => s.body(c, ...args));
      case 'start':
        return s.start;
    }
  }
  const behaviour = s;
  if (typeof behaviour.init !== 'function') throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `a GenServer behaviour needs an init function; this object has ${Object.keys(behaviour).join(', ') || 'no keys'}. Register a behaviour (with init), a process body (a function), or { kind, … }`);
  return (ctx, arg) => GenServer.startLink(ctx, behaviour, arg as A);
}
