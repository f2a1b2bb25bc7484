// What an ecosystem is made of, as data: the public spec and what the coordinator and workers
// hear, the registered names of keepers and slots, and the specs that travel to other nodes,
// checked field by field before anything starts there (a spec from another node is data, never
// a path or a module).

import { Pid } from '@fdn/actors';
import type { GenServerBehaviour, ProcessContext } from '@fdn/actors';
import { DistributionError, DistributionErrorCode } from '../errors/errors.ts';
import type { LeaseOptions } from './lease.ts';
import type { Placement } from './placement.ts';

/** The factory name under which every node offers ecosystem slots. */
export const SLOT_BEHAVIOUR = 'fdn.ecosystem.slot';
/** And failover candidates. */
export const CANDIDATE_BEHAVIOUR = 'fdn.ecosystem.candidate';

/** The registered name of an ecosystem's keeper (on the node that runs it). */
export const keeperName = (eco: string): string => `fdn.eco.${eco}.keeper`;
/** The registered name of a slot's supervisor on its node. */
export const slotName = (eco: string, slot: number): string => `fdn.eco.${eco}.slot.${String(slot)}`;

/** What `spawnEcosystem` starts: a coordinator, its workers, where they go, and how they scale. */
export interface EcosystemSpec<CS = unknown, CA = unknown> {
  /** Shown in `ecosystemInfo` and telemetry (default `ecosystem-<n>`). */
  name?: string;
  /**
   * The coordinator: a GenServer behaviour started on this node (its `init` gets
   * `coordinatorArgs`), or, for a singleton with standbys, the name of a behaviour registered in
   * the factories of `nodes`, whose `init` gets `{ args: coordinatorArgs, restored }` (the last
   * checkpoint, or undefined).
   */
  coordinator: GenServerBehaviour<CS, CA> | FailoverCoordinator;
  coordinatorArgs?: CA;
  /** The workers: a behaviour registered in the process factories of the nodes that may host them. */
  workers: { behaviour: string; count: number; args?: unknown[] };
  /**
   * How a worker's crash affects the others (OTP's strategies, across nodes): `oneForOne` (the
   * default; `simpleOneForOne` is the same here): only it restarts, on its node; `oneForAll`: every
   * other worker restarts too; `restForOne`: the workers of higher slots restart too.
   */
  strategy?: 'oneForOne' | 'oneForAll' | 'restForOne' | 'simpleOneForOne';
  /** Channels the ecosystem's work should use; given to the coordinator with every worker change. */
  channels?: { control?: string; data?: string };
  /** Restarts a crashed worker tolerates on its node (default 5 in 5,000 ms), then its slot is respawned. */
  intensity?: number;
  periodMs?: number;
  /** Adaptive scaling (off when absent). */
  scaling?: ScalingSpec;
  distribution?: {
    /** `clusterWide` (this node and every connected one, the default), `explicitNodes` (`nodes`), `localOnly`. */
    policy?: 'clusterWide' | 'explicitNodes' | 'localOnly';
    nodes?: string[];
    /** Default `roundRobin`. */
    placement?: Placement;
    /** Leave this node out of `clusterWide` placement (it runs the coordinator). */
    excludeSelf?: boolean;
  };
}

/** A coordinator that fails over between `nodes` (see `EcosystemSpec.coordinator`). */
export interface FailoverCoordinator {
  behaviour: string;
  /** Candidate nodes (3 or 5 tolerate 1 or 2 lost); a majority must be reachable to run it. */
  nodes: string[];
  lease?: LeaseOptions;
}

/** What a failover coordinator's `init` gets. */
export interface FailoverInit<CA = unknown> {
  args: CA;
  /** The coordinator's last checkpoint (see `checkpoint`), or undefined on a first start. */
  restored: unknown;
  epoch: number;
}

/** What the coordinator reports about the work (`reportMetrics`); every field optional. */
export interface EcosystemMetrics {
  /** Work waiting (queued jobs, messages). */
  backlog?: number;
  /** Recent time per job (ms). */
  latencyMs?: number;
  /** Recent jobs per second. */
  throughput?: number;
}

/** Chooses the number of workers from the metrics; return `current` to hold. */
export type ScalingPolicy = (metrics: EcosystemMetrics, current: number) => number;

/** How an ecosystem's worker count follows its load. */
export interface ScalingSpec {
  min: number;
  max: number;
  /** No two scaling steps closer than this (default 30,000 ms; `cooldown_active` in the topology sense). */
  cooldownMs?: number;
  /** How often the policy is asked (default 1,000 ms). */
  intervalMs?: number;
  /** Default: {@link backlogPolicy} with 10 jobs per worker. */
  policy?: ScalingPolicy;
}

/**
 * The built-in policy: enough workers that each has about `perWorker` jobs waiting; with no
 * backlog reported, hold. (Clamped to the bounds by the keeper.)
 */
export function backlogPolicy(options: { perWorker?: number } = {}): ScalingPolicy {
  const per = options.perWorker ?? 10;
  return (metrics, current) => (metrics.backlog === undefined ? current : Math.ceil(metrics.backlog / per));
}

/** Called by a failover coordinator to keep `value` as its checkpoint (restored by its successor). */
export function checkpoint(ctx: ProcessContext, keeper: Pid, value: unknown): void {
  ctx.send(keeper, { type: 'fdn.ecosystem.checkpoint', value });
}

/** Called by a coordinator (inside the ecosystem) to report its metrics to the keeper, which scales on them. */
export function reportMetrics(ctx: ProcessContext, keeper: Pid, metrics: EcosystemMetrics): void {
  ctx.send(keeper, { type: 'fdn.ecosystem.metrics', metrics });
}

/** A worker as the coordinator sees it. */
export interface WorkerRef {
  slot: number;
  pid: Pid;
  node: string;
}

/** Sent to the coordinator whenever the set of live workers changes. */
export interface WorkersChanged {
  type: 'ecosystem.workers';
  /** The ecosystem's keeper (for `reportMetrics` and `checkpoint`). */
  keeper: Pid;
  /** The channels of the spec (`data` for work sent to workers, `control` for the rest). */
  channels: { control: string; data: string };
  workers: WorkerRef[];
  /** Why: a slot started, a worker restarted on its node, a slot lost with its node (respawning), respawned elsewhere. */
  change: { kind: 'started' | 'restarted' | 'lost' | 'respawned' | 'retired'; slot: number; node: string };
}

/** What `ecosystemInfo` reports: the coordinator, the workers per node and per slot, restarts, respawns, placements and scaling steps. */
export interface EcosystemInfo {
  name: string;
  coordinator: { pid: Pid; node: string };
  workersPerNode: Record<string, number>;
  slots: { slot: number; node: string | null; worker: Pid | null; restarts: number; respawns: number }[];
  restarts: number;
  respawns: number;
  /** Placements in order: initial, and respawns after a lost node. */
  history: { at: number; slot: number; node: string; kind: 'placed' | 'respawned'; reason?: string }[];
  /** Scaling steps: from how many workers to how many, and why. */
  scaling: { at: number; from: number; to: number; reason: string }[];
  /** With a failover coordinator, the lease epoch of the keeper that answered: one more with each election, so its changes count the failovers. Null otherwise. */
  leaseEpoch: number | null;
}

/** A running ecosystem. With failover, `keeper` and `coordinator` are those at start (see `ecosystemInfo` for the current ones). */
export interface Ecosystem {
  name: string;
  keeper: Pid | null;
  coordinator: Pid | null;
  /** Failover candidates (empty: the coordinator lives on the node that spawned it). */
  candidates: string[];
}

// ==== What another node may send: checked before anything starts ====

export const NAME = /^[A-Za-z0-9_.:-]{1,128}$/;

function bad(what: string): DistributionError {
  return new DistributionError(DistributionErrorCode.SPAWN_FAILED, `refused an ecosystem spec: ${what}`);
}

function isInt(x: unknown, min: number, max: number): x is number {
  return Number.isInteger(x) && (x as number) >= min && (x as number) <= max;
}

function isNameList(x: unknown, max: number): x is string[] {
  return Array.isArray(x) && x.length <= max && x.every((n) => typeof n === 'string' && NAME.test(n));
}

export function checkSlotSpec(x: unknown): SlotSpec {
  if (typeof x !== 'object' || x === null) throw bad('a slot spec is not an object');
  const s = x as Partial<SlotSpec>;
  if (typeof s.ecosystem !== 'string' || !NAME.test(s.ecosystem)) throw bad('the ecosystem name');
  if (typeof s.behaviour !== 'string' || s.behaviour === '') throw bad('the worker behaviour');
  if (!Array.isArray(s.args)) throw bad('the worker arguments');
  if (!isInt(s.slot, 0, 1_000_000)) throw bad('the slot number');
  if (s.keeper !== null && !(s.keeper instanceof Pid)) throw bad('the keeper');
  if (!isNameList(s.candidates, 64)) throw bad('the candidates');
  if (!isInt(s.intensity, 0, 1_000_000) || !isInt(s.periodMs, 1, 86_400_000)) throw bad('the restart intensity');
  return s as SlotSpec;
}

export function checkFailoverData(x: unknown): FailoverData {
  if (typeof x !== 'object' || x === null) throw bad('a failover spec is not an object');
  const d = x as Partial<FailoverData>;
  if (typeof d.name !== 'string' || !NAME.test(d.name)) throw bad('the ecosystem name');
  const c = d.coordinator as Partial<FailoverData['coordinator']> | undefined;
  if (c === undefined || typeof c.behaviour !== 'string' || !isNameList(c.nodes, 64) || typeof c.lease !== 'object' || (c.lease as unknown) === null) throw bad('the coordinator');
  // Only the keys a candidate uses: anything else (a storeDir of old) is not read, let alone used.
  const lease = c.lease as Record<string, unknown>;
  for (const key of Object.keys(lease)) if (!['leaseMs', 'renewMs', 'marginMs'].includes(key) || !isInt(lease[key], 1, 3_600_000)) throw bad(`the lease option ${key}`);
  const w = d.workers as Partial<FailoverData['workers']> | undefined;
  if (typeof w !== 'object' || typeof w.behaviour !== 'string' || !isInt(w.count, 0, 100_000) || !Array.isArray(w.args)) throw bad('the workers');
  if (!isInt(d.intensity, 0, 1_000_000) || !isInt(d.periodMs, 1, 86_400_000)) throw bad('the restart intensity');
  if (!['oneForOne', 'oneForAll', 'restForOne'].includes(d.strategy as string)) throw bad('the strategy');
  if (typeof d.distribution !== 'object' || typeof d.channels !== 'object') throw bad('the distribution or channels');
  return {
    name: d.name,
    coordinator: { behaviour: c.behaviour, args: c.args, nodes: c.nodes, lease: c.lease },
    workers: { behaviour: w.behaviour, count: w.count, args: w.args },
    intensity: d.intensity,
    periodMs: d.periodMs,
    distribution: d.distribution,
    scaling: d.scaling ?? null,
    strategy: d.strategy as FailoverData['strategy'],
    channels: d.channels,
  };
}

export interface SlotSpec {
  ecosystem: string;
  behaviour: string;
  args: unknown[];
  slot: number;
  /** The keeper to report to, or null (failover: report to the keeper name on every candidate). */
  keeper: Pid | null;
  candidates: string[];
  intensity: number;
  periodMs: number;
}

/** An ecosystem's spec as data (what travels to failover candidates; no functions). */
export interface FailoverData {
  name: string;
  coordinator: { behaviour: string; args: unknown; nodes: string[]; lease: LeaseOptions };
  workers: { behaviour: string; count: number; args: unknown[] };
  intensity: number;
  periodMs: number;
  distribution: NonNullable<EcosystemSpec['distribution']>;
  scaling: { min: number; max: number; cooldownMs?: number; intervalMs?: number; perWorker?: number } | null;
  strategy: 'oneForOne' | 'oneForAll' | 'restForOne';
  channels: { control: string; data: string };
}

export function strategyOf(spec: Pick<EcosystemSpec, 'strategy'>): 'oneForOne' | 'oneForAll' | 'restForOne' {
  const s = spec.strategy ?? 'oneForOne';
  return s === 'simpleOneForOne' ? 'oneForOne' : s;
}

export function channelsOf(spec: Pick<EcosystemSpec, 'channels'>): { control: string; data: string } {
  return { control: spec.channels?.control ?? 'default', data: spec.channels?.data ?? 'default' };
}

export function validateSpec<CS, CA>(spec: EcosystemSpec<CS, CA>): void {
  if (!Number.isInteger(spec.workers.count) || spec.workers.count < 0) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, 'workers.count must be a non-negative integer');
  const policy = spec.distribution?.policy ?? 'clusterWide';
  if (!['clusterWide', 'explicitNodes', 'localOnly'].includes(policy)) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `unknown distribution policy '${policy}'`);
  const placement = spec.distribution?.placement ?? 'roundRobin';
  if (!['roundRobin', 'leastLoaded', 'random', 'topologyAware'].includes(placement)) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `unknown placement '${placement}'`);
  if (spec.strategy !== undefined && !['oneForOne', 'oneForAll', 'restForOne', 'simpleOneForOne'].includes(spec.strategy)) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `unknown strategy '${spec.strategy}'`);
  if (policy === 'explicitNodes' && (spec.distribution?.nodes ?? []).length === 0) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, "policy 'explicitNodes' needs distribution.nodes");
}

export function isFailover(c: EcosystemSpec['coordinator']): c is FailoverCoordinator {
  return typeof (c as FailoverCoordinator).behaviour === 'string' && Array.isArray((c as FailoverCoordinator).nodes);
}

