// Process ecosystems: a coordinator and its workers spread over the cluster, that keep working
// when nodes die. `spawnEcosystem` starts, on this node, a keeper and the user's coordinator. The
// keeper places each worker slot on a node (per policy and placement) through that node's process
// factory, where the slot is a small local supervisor around the user's worker: a crashing worker
// is restarted there, on its own node, and the new pid is reported back. When a node is lost, the
// keeper respawns its slots on the remaining nodes. The coordinator hears of every change as
// `{ type: 'ecosystem.workers', workers }` and decides what to do with work in flight.
//
// Scaling: with `scaling`, the keeper asks a policy now and then how many workers there should
// be, from the metrics the coordinator reports (`reportMetrics`), within bounds and a cooldown.
//
// Failover: with `coordinator: { behaviour, nodes }` the coordinator is a singleton with standbys.
// Every candidate node runs a candidate process; a majority lease (lease.ts) picks the one that
// runs the keeper and the coordinator; the keeper checkpoints the placement of the slots and the
// coordinator's own checkpoints in a fenced store (store.ts). A new leader adopts the running slots
// (they are registered by name on their nodes) and restarts the coordinator from the checkpoint.
//
// Not yet here: `rebalance`, and cross-node oneForAll/restForOne (each slot is oneForOne).

import { GenServer, isDownMessage, Pid, Supervisor } from '@fdn/actors';
import type { GenServerBehaviour, ProcessContext, Ref, RemoteName } from '@fdn/actors';
import { startLease } from './lease.ts';
import type { LeaseEvent, LeaseOptions } from './lease.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uniqueIds } from '@fdn/core';
import { FileStore } from '../checkpoint/store.ts';
import type { CheckpointStore } from '../checkpoint/store.ts';
import { DistributionError, DistributionErrorCode } from '../errors/errors.ts';
import type { Node, NodeFeature } from '../node/node.ts';
import { place } from './placement.ts';
import type { Placement } from './placement.ts';

/** The factory name under which every node offers ecosystem slots. */
export const SLOT_BEHAVIOUR = 'fdn.ecosystem.slot';
/** And failover candidates. */
export const CANDIDATE_BEHAVIOUR = 'fdn.ecosystem.candidate';

const keeperName = (eco: string): string => `fdn.eco.${eco}.keeper`;
const slotName = (eco: string, slot: number): string => `fdn.eco.${eco}.slot.${String(slot)}`;

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
}

/** A running ecosystem. With failover, `keeper` and `coordinator` are those at start (see `ecosystemInfo` for the current ones). */
export interface Ecosystem {
  name: string;
  keeper: Pid | null;
  coordinator: Pid | null;
  /** Failover candidates (empty: the coordinator lives on the node that spawned it). */
  candidates: string[];
}

interface Slot {
  slot: number;
  node: string | null;
  /** The slot's supervisor on its node (by name when adopted after a failover), and our monitor of it. */
  supervisor: Pid | RemoteName | null;
  ref: Ref | null;
  worker: Pid | null;
  restarts: number;
  respawns: number;
  /** Scaled down: not placed again (unless scaled up). */
  retired: boolean;
  /** Being restarted because a sibling crashed (oneForAll / restForOne). */
  restarting?: boolean;
}

interface KeeperState {
  slots: Slot[];
  coordinator: Pid;
  turn: number;
  history: EcosystemInfo['history'];
  /** Nodes lost and not back: not placed on. */
  lost: Set<string>;
  metrics: EcosystemMetrics;
  scaling: EcosystemInfo['scaling'];
  lastScaleAt: number;
}

interface Started {
  type: 'fdn.ecosystem.started';
  slot: number;
  pid: Pid;
}

/** What ecosystems keep per node. */
export interface EcosystemsOnNode {
  /** Where this node keeps failover checkpoints: its own configuration, created on first use (never a path a peer sent). */
  readonly checkpointStore: CheckpointStore;
  /** Names for unnamed ecosystems, unique across nodes and restarts. */
  uniqueId(): string;
}

/**
 * Ecosystems as a feature of a node (`startNode` installs it): the slot and candidate behaviours
 * in the node's system factory, the node's checkpoint store, and its ids.
 */
export const ecosystems: NodeFeature<EcosystemsOnNode> = {
  name: 'ecosystems',
  install(node) {
    registerSlotBehaviour(node);
    let store: CheckpointStore | undefined = node.options.checkpointStore;
    return {
      get checkpointStore(): CheckpointStore {
        return (store ??= new FileStore(node.options.checkpointDir ?? join(tmpdir(), 'fdn-ecosystems')));
      },
      uniqueId: uniqueIds(node.random),
    };
  },
};

/**
 * Registers the ecosystem's own behaviours (a slot, a failover candidate) in `node`'s system
 * factory: not the user's, so `node.spawn` from a peer cannot reach them, and what they are sent
 * is checked field by field (a spec from another node is data, never a path or a module).
 */
export function registerSlotBehaviour(node: Node): void {
  node.systemFactory.register(SLOT_BEHAVIOUR, {
    kind: 'start',
    start: (ctx: ProcessContext, ...a: unknown[]) => {
      const spec = checkSlotSpec(a[0]);
      const report = (c: ProcessContext, msg: Started): void => {
        if (spec.keeper !== null) c.send(spec.keeper, msg);
        // With failover, the keeper is wherever the lease is: each candidate node's keeper name.
        else for (const n of spec.candidates) c.send({ name: keeperName(spec.ecosystem), node: n }, msg);
      };
      const sup = Supervisor.startLink(ctx, {
        strategy: 'oneForOne',
        intensity: spec.intensity,
        periodMs: spec.periodMs,
        children: [
          {
            id: 'worker',
            restart: 'permanent',
            start: async (c: ProcessContext) => {
              const pid = await node.factory.startLinked(c, spec.behaviour, spec.args);
              report(c, { type: 'fdn.ecosystem.started', slot: spec.slot, pid });
              return pid;
            },
          },
        ],
      });
      // Registered by name on its node, so a keeper elected later can find and adopt it.
      return sup.then((pid) => {
        if (spec.keeper === null && node.runtime.whereis(slotName(spec.ecosystem, spec.slot)) === undefined) node.runtime.register(slotName(spec.ecosystem, spec.slot), pid);
        return pid;
      });
    },
  });
  node.systemFactory.register(CANDIDATE_BEHAVIOUR, {
    kind: 'start',
    start: (ctx: ProcessContext, ...a: unknown[]) => {
      const data = checkFailoverData(a[0]);
      return ctx.spawnLink((c) => runCandidate(node, c, data));
    },
  });
}

// ==== What another node may send: checked before anything starts ====

const NAME = /^[A-Za-z0-9_.:-]{1,128}$/;

function bad(what: string): DistributionError {
  return new DistributionError(DistributionErrorCode.SPAWN_FAILED, `refused an ecosystem spec: ${what}`);
}

function isInt(x: unknown, min: number, max: number): x is number {
  return Number.isInteger(x) && (x as number) >= min && (x as number) <= max;
}

function isNameList(x: unknown, max: number): x is string[] {
  return Array.isArray(x) && x.length <= max && x.every((n) => typeof n === 'string' && NAME.test(n));
}

function checkSlotSpec(x: unknown): SlotSpec {
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

function checkFailoverData(x: unknown): FailoverData {
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

interface SlotSpec {
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
interface FailoverData {
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

function strategyOf(spec: Pick<EcosystemSpec, 'strategy'>): 'oneForOne' | 'oneForAll' | 'restForOne' {
  const s = spec.strategy ?? 'oneForOne';
  return s === 'simpleOneForOne' ? 'oneForOne' : s;
}

function channelsOf(spec: Pick<EcosystemSpec, 'channels'>): { control: string; data: string } {
  return { control: spec.channels?.control ?? 'default', data: spec.channels?.data ?? 'default' };
}

/** A failover candidate: holds the lease process; runs the keeper while it leads. */
async function runCandidate(node: Node, ctx: ProcessContext, data: FailoverData): Promise<void> {
  const lease = startLease(node, data.name, data.coordinator.nodes, ctx.self, data.coordinator.lease);
  ctx.link(lease);
  // This node's own store, from its own configuration: nothing another node sends picks a path.
  const store = node.feature(ecosystems).checkpointStore;
  let keeper: Pid | null = null;
  for (;;) {
    const e = (await ctx.receive()) as LeaseEvent;
    if (e.type === 'fdn.lease.leader' && keeper === null) {
      const config = keeperConfig(node, data, { epoch: e.epoch, store, candidates: data.coordinator.nodes });
      keeper = await GenServer.start(node.runtime, keeperBehaviour(node, config), undefined).catch((err: unknown) => {
        node.logger.error(`ecosystem ${data.name}: the keeper did not start on ${node.name}`, { reason: err });
        return null;
      });
    } else if (e.type === 'fdn.lease.follower' && keeper !== null) {
      // The lease ran out here: stop at once (the coordinator is linked to the keeper and goes too).
      ctx.exit(keeper, 'kill');
      keeper = null;
    }
  }
}

/** What a keeper needs: the spec as data, how to start the coordinator, and (failover) its lease. */
interface KeeperConfig {
  name: string;
  workers: { behaviour: string; count: number; args: unknown[] };
  intensity: number;
  periodMs: number;
  policy: 'clusterWide' | 'explicitNodes' | 'localOnly';
  nodes: string[];
  placement: Placement;
  excludeSelf: boolean;
  scaling: ScalingSpec | null;
  strategy: 'oneForOne' | 'oneForAll' | 'restForOne';
  channels: { control: string; data: string };
  startCoordinator: (ctx: ProcessContext, restored: unknown) => Pid | Promise<Pid>;
  failover: { epoch: number; store: CheckpointStore; candidates: string[] } | null;
}

function keeperConfig(node: Node, data: FailoverData, failover: NonNullable<KeeperConfig['failover']>): KeeperConfig {
  const scaling = data.scaling;
  return {
    name: data.name,
    workers: data.workers,
    intensity: data.intensity,
    periodMs: data.periodMs,
    policy: data.distribution.policy ?? 'clusterWide',
    nodes: data.distribution.nodes ?? [],
    placement: data.distribution.placement ?? 'roundRobin',
    excludeSelf: data.distribution.excludeSelf === true,
    strategy: data.strategy,
    channels: data.channels,
    scaling: scaling === null ? null : { min: scaling.min, max: scaling.max, ...(scaling.cooldownMs === undefined ? {} : { cooldownMs: scaling.cooldownMs }), ...(scaling.intervalMs === undefined ? {} : { intervalMs: scaling.intervalMs }), policy: backlogPolicy({ ...(scaling.perWorker === undefined ? {} : { perWorker: scaling.perWorker }) }) },
    startCoordinator: (ctx, restored) => node.factory.startLinked(ctx, data.coordinator.behaviour, [{ args: data.coordinator.args, restored, epoch: failover.epoch } satisfies FailoverInit]),
    failover,
  };
}

function validateSpec<CS, CA>(spec: EcosystemSpec<CS, CA>): void {
  if (!Number.isInteger(spec.workers.count) || spec.workers.count < 0) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, 'workers.count must be a non-negative integer');
  const policy = spec.distribution?.policy ?? 'clusterWide';
  if (!['clusterWide', 'explicitNodes', 'localOnly'].includes(policy)) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `unknown distribution policy '${policy}'`);
  const placement = spec.distribution?.placement ?? 'roundRobin';
  if (!['roundRobin', 'leastLoaded', 'random', 'topologyAware'].includes(placement)) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `unknown placement '${placement}'`);
  if (spec.strategy !== undefined && !['oneForOne', 'oneForAll', 'restForOne', 'simpleOneForOne'].includes(spec.strategy)) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `unknown strategy '${spec.strategy}'`);
  if (policy === 'explicitNodes' && (spec.distribution?.nodes ?? []).length === 0) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, "policy 'explicitNodes' needs distribution.nodes");
}

function isFailover(c: EcosystemSpec['coordinator']): c is FailoverCoordinator {
  return typeof (c as FailoverCoordinator).behaviour === 'string' && Array.isArray((c as FailoverCoordinator).nodes);
}

/**
 * Starts an ecosystem from this node. Local coordinator: resolves once it runs and every slot was
 * placed (or waits for a node). Failover coordinator: resolves once every candidate runs (the
 * lease then elects the one that starts the keeper and coordinator).
 */
export async function spawnEcosystem<CS, CA>(node: Node, spec: EcosystemSpec<CS, CA>): Promise<Ecosystem> {
  validateSpec(spec);
  const name = spec.name ?? `ecosystem-${node.feature(ecosystems).uniqueId()}`;
  if (!NAME.test(name)) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `an ecosystem name is 1–128 letters, digits, '_', '.', ':' or '-'; got ${JSON.stringify(name)}`);
  const coordinator = spec.coordinator;
  if (isFailover(coordinator)) {
    if (spec.scaling?.policy !== undefined) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, 'a failover ecosystem scales with the built-in backlog policy only (a policy function cannot travel to the candidates)');
    if (coordinator.nodes.length === 0) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, 'coordinator.nodes needs at least one candidate');
    const data: FailoverData = {
      name,
      coordinator: { behaviour: coordinator.behaviour, args: spec.coordinatorArgs, nodes: coordinator.nodes.slice().sort(), lease: coordinator.lease ?? {} },
      workers: { behaviour: spec.workers.behaviour, count: spec.workers.count, args: spec.workers.args ?? [] },
      intensity: spec.intensity ?? 5,
      periodMs: spec.periodMs ?? 5_000,
      distribution: spec.distribution ?? {},
      strategy: strategyOf(spec),
      channels: channelsOf(spec),
      scaling: spec.scaling === undefined ? null : { min: spec.scaling.min, max: spec.scaling.max, ...(spec.scaling.cooldownMs === undefined ? {} : { cooldownMs: spec.scaling.cooldownMs }), ...(spec.scaling.intervalMs === undefined ? {} : { intervalMs: spec.scaling.intervalMs }) },
    };
    for (const candidate of data.coordinator.nodes) await node.spawnSystem(null, candidate, CANDIDATE_BEHAVIOUR, [data]);
    return { name, keeper: null, coordinator: null, candidates: data.coordinator.nodes };
  }
  const config: KeeperConfig = {
    name,
    workers: { behaviour: spec.workers.behaviour, count: spec.workers.count, args: spec.workers.args ?? [] },
    intensity: spec.intensity ?? 5,
    periodMs: spec.periodMs ?? 5_000,
    policy: spec.distribution?.policy ?? 'clusterWide',
    nodes: spec.distribution?.nodes ?? [],
    placement: spec.distribution?.placement ?? 'roundRobin',
    excludeSelf: spec.distribution?.excludeSelf === true,
    scaling: spec.scaling ?? null,
    strategy: strategyOf(spec),
    channels: channelsOf(spec),
    startCoordinator: (ctx) => GenServer.startLink(ctx, coordinator, spec.coordinatorArgs as CA),
    failover: null,
  };
  const keeperPid = await GenServer.start(node.runtime, keeperBehaviour(node, config), undefined);
  const info = await GenServer.call<EcosystemInfo>(node.runtime, keeperPid, 'info');
  return { name, keeper: keeperPid, coordinator: info.coordinator.pid, candidates: [] };
}

/** The keeper of an ecosystem on `node`: places, watches and respawns the slots; runs the coordinator. */
function keeperBehaviour(node: Node, k: KeeperConfig): GenServerBehaviour<KeeperState, undefined, 'info' | 'rebalance', EcosystemInfo | number> {
  const { name, workers: spec } = k;
  const rt = node.runtime;
  const telemetry = rt.telemetry;
  const { intensity, periodMs, policy, placement } = k;
  let lastCheckpoint: unknown = undefined;
  const candidates = (lost: Set<string>): string[] => {
    const up = new Set(node.nodes().filter((n) => !node.isLeaving(n)));
    let nodes: string[];
    if (policy === 'localOnly') nodes = [node.name];
    else if (policy === 'explicitNodes') nodes = k.nodes.filter((n) => n === node.name || up.has(n));
    else nodes = [...(k.excludeSelf ? [] : [node.name]), ...up];
    return nodes.filter((n) => !lost.has(n) || n === node.name).sort();
  };

  /** Places `slot` (or schedules a retry when no node can take it). */
  const placeSlot = async (ctx: ProcessContext, state: KeeperState, slot: Slot, kind: 'placed' | 'respawned', reason?: string, on?: string): Promise<void> => {
    const placed = new Map<string, number>();
    for (const s of state.slots) if (s.node !== null && s !== slot) placed.set(s.node, (placed.get(s.node) ?? 0) + 1);
    const target = on ?? place(placement, {
      candidates: candidates(state.lost),
      placed,
      load: (n) => node.loadOf(n),
      rttMs: (n) => (n === node.name ? 0 : node.transport.link(n)?.rttMs),
      random: node.random,
      turn: state.turn++,
    });
    if (target === undefined) {
      ctx.sendAfter(ctx.self, { type: 'fdn.ecosystem.retry', slot: slot.slot }, 500);
      return;
    }
    try {
      const slotSpec: SlotSpec = { ecosystem: name, behaviour: spec.behaviour, args: spec.args, slot: slot.slot, keeper: k.failover === null ? ctx.self : null, candidates: k.failover?.candidates ?? [], intensity, periodMs };
      const { pid, ref } = await node.spawnSystem(ctx, target, SLOT_BEHAVIOUR, [slotSpec], { monitor: true });
      slot.node = target;
      slot.supervisor = pid;
      slot.ref = ref;
      state.history.push({ at: rt.clock.now(), slot: slot.slot, node: target, kind, ...(reason === undefined ? {} : { reason }) });
      telemetry.emit(`fdn.ecosystem.${kind === 'placed' ? 'placement' : 'respawn'}`, { slot: slot.slot }, { ecosystem: name, node: target, reason: reason ?? null });
      await save(ctx, state);
    } catch (err) {
      rt.logger.warn(`ecosystem ${name}: slot ${String(slot.slot)} could not start on ${target}; trying again`, { reason: err });
      if ((err as { code?: string }).code === DistributionErrorCode.NOCONNECTION) state.lost.add(target);
      ctx.sendAfter(ctx.self, { type: 'fdn.ecosystem.retry', slot: slot.slot }, 200);
    }
  };

  /**
   * OTP's oneForAll / restForOne across nodes: the siblings' workers are terminated and restarted
   * by their own slot supervisors, from a helper process (the keeper keeps answering). Their new
   * pids come back as restarts; they do not cascade.
   */
  const restartSiblings = (ctx: ProcessContext, state: KeeperState, crashed: Slot): void => {
    const siblings = state.slots.filter((x) => x !== crashed && !x.retired && x.supervisor !== null && (k.strategy === 'oneForAll' || x.slot > crashed.slot));
    for (const x of siblings) x.restarting = true;
    ctx.spawn(async (c) => {
      for (const x of siblings) {
        const sup = x.supervisor;
        if (sup === null) continue;
        await Supervisor.terminateChild(c, sup, 'worker').catch(() => undefined);
        await Supervisor.restartChild(c, sup, 'worker').catch(() => undefined);
      }
    });
  };

  /**
   * Moves workers from the fullest nodes to the emptiest until no node has two more than another
   * (a node that joined takes its share). Each move stops the slot on its node and starts it on the
   * other; the coordinator is told (`retired`, then `started`). Returns how many moved.
   */
  const rebalance = async (ctx: ProcessContext, state: KeeperState): Promise<number> => {
    let moved = 0;
    // At most one move per slot: the loop ends.
    for (const _ of state.slots.slice()) {
      const nodes = candidates(state.lost);
      if (nodes.length < 2) break;
      const count = new Map<string, Slot[]>(nodes.map((n) => [n, []]));
      for (const s of state.slots) if (!s.retired && s.node !== null) count.get(s.node)?.push(s);
      const sorted = [...count].sort((x, y) => x[1].length - y[1].length || (x[0] < y[0] ? -1 : 1));
      const [emptiest, few] = sorted[0] as [string, Slot[]];
      const [, many] = sorted.at(-1) as [string, Slot[]];
      if (many.length - few.length < 2) break;
      const slot = many.at(-1) as Slot;
      const from = slot.node as string;
      // Not a loss: forget the monitor first, so its DOWN does not respawn the slot.
      if (slot.ref !== null) ctx.demonitor(slot.ref, { flush: true });
      slot.ref = null;
      const sup = slot.supervisor;
      slot.supervisor = null;
      if (slot.worker !== null) {
        slot.worker = null;
        tell(ctx, state, { kind: 'retired', slot: slot.slot, node: from });
      }
      if (sup !== null) await GenServer.stop(ctx, sup, 'shutdown', 5_000).catch(() => undefined);
      slot.node = null;
      await placeSlot(ctx, state, slot, 'placed', `rebalance from ${from}`, emptiest);
      moved++;
    }
    return moved;
  };

  /** One scaling step, if the policy wants another count, the bounds allow it and the cooldown is over. */
  const scale = async (ctx: ProcessContext, state: KeeperState, scaling: ScalingSpec): Promise<void> => {
    const active = state.slots.filter((s) => !s.retired);
    const current = active.length;
    const policy = scaling.policy ?? backlogPolicy();
    const wanted = Math.max(scaling.min, Math.min(scaling.max, Math.round(policy(state.metrics, current))));
    const now = rt.clock.now();
    if (wanted === current || now - state.lastScaleAt < (scaling.cooldownMs ?? 30_000)) return;
    state.lastScaleAt = now;
    const reason = `policy: ${JSON.stringify(state.metrics)}`;
    state.scaling.push({ at: now, from: current, to: wanted, reason });
    telemetry.emit('fdn.ecosystem.scale', { from: current, to: wanted }, { ecosystem: name, reason });
    if (wanted > current) {
      for (let k = current; k < wanted; k++) {
        let slot = state.slots.find((s) => s.retired && s.supervisor === null);
        if (slot === undefined) {
          slot = { slot: state.slots.length, node: null, supervisor: null, ref: null, worker: null, restarts: 0, respawns: 0, retired: false };
          state.slots.push(slot);
        }
        slot.retired = false;
        await placeSlot(ctx, state, slot, 'placed');
      }
      return;
    }
    // Down: the newest slots go first.
    for (const slot of active.slice(wanted).reverse()) {
      slot.retired = true;
      if (slot.worker !== null && slot.node !== null) {
        const node_ = slot.node;
        slot.worker = null;
        tell(ctx, state, { kind: 'retired', slot: slot.slot, node: node_ });
      }
      // A supervisor traps exits; it stops in order when asked as a process (OTP's sys stop).
      if (slot.supervisor !== null) await GenServer.stop(ctx, slot.supervisor, 'shutdown', 5_000).catch(() => undefined);
    }
  };

  const tell = (ctx: ProcessContext, state: KeeperState, change: WorkersChanged['change']): void => {
    const workers: WorkerRef[] = [];
    for (const s of state.slots) if (s.worker !== null && s.node !== null && !s.retired) workers.push({ slot: s.slot, pid: s.worker, node: s.node });
    ctx.send(state.coordinator, { type: 'ecosystem.workers', keeper: ctx.self, channels: k.channels, workers, change } satisfies WorkersChanged);
  };

  /**
   * A slot placed by an earlier keeper: watched by its name on its node at once; its worker is
   * asked for by a helper process (an unreachable node must not hold the keeper up). If the slot is
   * gone, the monitor's DOWN places it again.
   */
  const adopt = (ctx: ProcessContext, slot: Slot, at: string): void => {
    const sup: RemoteName = { name: slotName(name, slot.slot), node: at };
    slot.ref = ctx.monitor(sup);
    slot.supervisor = sup;
    const keeper = ctx.self;
    ctx.spawn(async (c) => {
      const children = await Supervisor.whichChildren(c, sup).catch(() => []);
      const worker = children.find((x) => x.id === 'worker')?.pid;
      if (worker instanceof Pid && worker.node === at) c.send(keeper, { type: 'fdn.ecosystem.started', slot: slot.slot, pid: worker, adopted: true });
    });
  };

  /** Failover: the slots' placement and the coordinator's checkpoint, under this keeper's epoch. A newer epoch in the store means we lost the lease: stop. */
  const save = async (ctx: ProcessContext, state: KeeperState): Promise<void> => {
    const f = k.failover;
    if (f === null) return;
    const value = { slots: state.slots.map((x) => ({ slot: x.slot, node: x.node, retired: x.retired })), coordinator: lastCheckpoint };
    try {
      await f.store.save(name, f.epoch, value);
    } catch (err) {
      rt.logger.warn(`ecosystem ${name}: keeper of epoch ${String(f.epoch)} is fenced off; stopping`, { reason: err });
      ctx.exit('fenced');
    }
  };

  return {
    name: `ecosystem keeper ${name}`,
    init: async (_args, ctx) => {
      let slots: Slot[] = Array.from({ length: spec.count }, (_, slot) => ({ slot, node: null, supervisor: null, ref: null, worker: null, restarts: 0, respawns: 0, retired: false }));
      let restored: unknown = undefined;
      if (k.failover !== null) {
        ctx.register(keeperName(name));
        const saved = (await k.failover.store.load(name))?.value as { slots: { slot: number; node: string | null; retired: boolean }[]; coordinator: unknown } | undefined;
        if (saved !== undefined) {
          slots = saved.slots.map((x) => ({ slot: x.slot, node: x.node, supervisor: null, ref: null, worker: null, restarts: 0, respawns: 0, retired: x.retired }));
          restored = saved.coordinator;
          lastCheckpoint = restored;
        }
      }
      const coordinator = await k.startCoordinator(ctx, restored);
      if (k.failover !== null) telemetry.emit('fdn.ecosystem.failover', { epoch: k.failover.epoch }, { ecosystem: name, node: node.name, restored: restored !== undefined });
      if (k.scaling !== null) ctx.sendAfter(ctx.self, { type: 'fdn.ecosystem.scale' }, k.scaling.intervalMs ?? 1_000);
      return { type: 'ok', state: { slots, coordinator, turn: 0, history: [], lost: new Set(), metrics: {}, scaling: [], lastScaleAt: Number.NEGATIVE_INFINITY }, continue: 'place' };
    },
    handleContinue: async (_what, state, ctx) => {
      for (const slot of state.slots) {
        if (slot.retired) continue;
        if (slot.node !== null) adopt(ctx, slot, slot.node);
        else await placeSlot(ctx, state, slot, 'placed');
      }
      await save(ctx, state);
      return { type: 'noreply', state };
    },
    handleCall: async (req, _from, state, ctx) => {
      if (req === 'rebalance') return { type: 'reply', reply: await rebalance(ctx, state), state };
      const workersPerNode: Record<string, number> = {};
      for (const s of state.slots) if (s.node !== null && s.worker !== null && !s.retired) workersPerNode[s.node] = (workersPerNode[s.node] ?? 0) + 1;
      const info: EcosystemInfo = {
        name,
        coordinator: { pid: state.coordinator, node: state.coordinator.node },
        workersPerNode,
        slots: state.slots.map((s) => ({ slot: s.slot, node: s.node, worker: s.worker, restarts: s.restarts, respawns: s.respawns })),
        restarts: state.slots.reduce((n, s) => n + s.restarts, 0),
        respawns: state.slots.reduce((n, s) => n + s.respawns, 0),
        history: state.history.slice(),
        scaling: state.scaling.slice(),
      };
      return { type: 'reply', reply: info, state };
    },
    handleInfo: async (msg, state, ctx) => {
      if (isDownMessage(msg)) {
        const slot = state.slots.find((s) => s.ref?.equals(msg.ref) === true);
        if (slot === undefined) return { type: 'noreply', state };
        if (slot.retired) {
          // Scaled down: its supervisor stopped as asked.
          slot.node = null;
          slot.supervisor = null;
          slot.ref = null;
          slot.worker = null;
          return { type: 'noreply', state };
        }
        const lostNode = slot.node ?? '?';
        // Its node stopping in order: the slot stops with `shutdown`, maybe after the node is gone already.
        const leaving = node.isLeaving(lostNode) || !node.nodes().includes(lostNode);
        const reason = msg.reason === 'noconnection' ? `node ${lostNode} lost` : leaving ? `node ${lostNode} left` : `slot supervisor exited on ${lostNode}`;
        if (msg.reason === 'noconnection' || leaving) state.lost.add(lostNode);
        slot.node = null;
        slot.supervisor = null;
        slot.ref = null;
        slot.worker = null;
        slot.respawns++;
        tell(ctx, state, { kind: 'lost', slot: slot.slot, node: lostNode });
        await placeSlot(ctx, state, slot, 'respawned', reason);
        return { type: 'noreply', state };
      }
      const m = msg as { type?: string; slot?: number; pid?: Pid; adopted?: boolean; sibling?: boolean };
      if (m.type === 'fdn.ecosystem.started' && m.pid !== undefined) {
        const slot = state.slots[m.slot ?? -1];
        if (slot?.node !== m.pid.node) return { type: 'noreply', state };
        if (m.adopted === true && slot.worker !== null) return { type: 'noreply', state };
        if (slot.restarting === true) {
          slot.restarting = false;
          m.sibling = true;
        }
        const restarted = slot.worker !== null && m.adopted !== true;
        if (restarted) {
          slot.restarts++;
          telemetry.emit('fdn.ecosystem.restart', { slot: slot.slot }, { ecosystem: name, node: slot.node });
          // A worker crashed and restarted on its node: with oneForAll / restForOne, its siblings restart too.
          if (k.strategy !== 'oneForOne' && m.sibling !== true) restartSiblings(ctx, state, slot);
        }
        slot.worker = m.pid;
        tell(ctx, state, { kind: restarted ? 'restarted' : slot.respawns > 0 ? 'respawned' : 'started', slot: slot.slot, node: slot.node });
        return { type: 'noreply', state };
      }
      if (m.type === 'fdn.ecosystem.checkpoint') {
        lastCheckpoint = (msg as { value: unknown }).value;
        await save(ctx, state);
        return { type: 'noreply', state };
      }
      if (m.type === 'fdn.ecosystem.metrics') {
        state.metrics = { ...(msg as { metrics: EcosystemMetrics }).metrics };
        return { type: 'noreply', state };
      }
      if (m.type === 'fdn.ecosystem.scale' && k.scaling !== null) {
        await scale(ctx, state, k.scaling);
        ctx.sendAfter(ctx.self, { type: 'fdn.ecosystem.scale' }, k.scaling.intervalMs ?? 1_000);
        return { type: 'noreply', state };
      }
      if (m.type === 'fdn.ecosystem.retry') {
        const slot = state.slots[m.slot ?? -1];
        if (slot?.supervisor === null && !slot.retired) {
          // A lost node that came back may host again.
          for (const n of state.lost) if (node.nodes().includes(n) && !node.isLeaving(n)) state.lost.delete(n);
          await placeSlot(ctx, state, slot, slot.respawns > 0 ? 'respawned' : 'placed');
        }
      }
      return { type: 'noreply', state };
    },
  };

}

/** Spreads the workers evenly again over the nodes the ecosystem may use (after nodes joined); resolves with how many moved. */
export async function rebalance(node: Node, eco: Ecosystem): Promise<number> {
  if (eco.candidates.length === 0 && eco.keeper !== null) return GenServer.call<number>(node.runtime, eco.keeper, 'rebalance', 30_000);
  for (const candidate of eco.candidates) {
    try {
      return await GenServer.call<number>(node.runtime, { name: keeperName(eco.name), node: candidate }, 'rebalance', 30_000);
    } catch {
      // Not the leader: the next.
    }
  }
  throw new DistributionError(DistributionErrorCode.NOCONNECTION, `ecosystem ${eco.name}: no keeper answered`);
}

/**
 * Where everything of an ecosystem is, and what happened to it. With failover, asks the keeper
 * name on each candidate (only the lease holder has one) and rejects with FDN_ERR_NOPROC when none
 * answers (an election in progress).
 */
export async function ecosystemInfo(node: Node, eco: Ecosystem): Promise<EcosystemInfo> {
  if (eco.candidates.length === 0 && eco.keeper !== null) return GenServer.call<EcosystemInfo>(node.runtime, eco.keeper, 'info');
  let last: unknown = new DistributionError(DistributionErrorCode.BAD_CONFIG, `ecosystem ${eco.name} has no keeper to ask`);
  for (const candidate of eco.candidates) {
    try {
      return await GenServer.call<EcosystemInfo>(node.runtime, { name: keeperName(eco.name), node: candidate }, 'info', 2_000);
    } catch (err) {
      last = err;
    }
  }
  throw last as Error;
}
