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
// Not yet here (issue 6 continues): coordinator standbys with a quorum lease, checkpoints,
// `rebalance`, and cross-node oneForAll/restForOne (each slot is oneForOne).

import { GenServer, isDownMessage, Supervisor } from '@fdn/actors';
import type { GenServerBehaviour, Pid, ProcessContext, Ref } from '@fdn/actors';
import { DistributionError, DistributionErrorCode } from '../errors/errors.ts';
import type { Node } from '../node/node.ts';
import { place } from './placement.ts';
import type { Placement } from './placement.ts';

/** The factory name under which every node offers ecosystem slots. */
export const SLOT_BEHAVIOUR = 'fdn.ecosystem.slot';

export interface EcosystemSpec<CS = unknown, CA = unknown> {
  /** Shown in `ecosystemInfo` and telemetry (default `ecosystem-<n>`). */
  name?: string;
  /** The coordinator: a GenServer started on this node; its `init` gets `coordinatorArgs`. */
  coordinator: GenServerBehaviour<CS, CA>;
  coordinatorArgs?: CA;
  /** The workers: a behaviour registered in the process factories of the nodes that may host them. */
  workers: { behaviour: string; count: number; args?: unknown[] };
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
  /** The ecosystem's keeper (for `reportMetrics`). */
  keeper: Pid;
  workers: WorkerRef[];
  /** Why: a slot started, a worker restarted on its node, a slot lost with its node (respawning), respawned elsewhere. */
  change: { kind: 'started' | 'restarted' | 'lost' | 'respawned' | 'retired'; slot: number; node: string };
}

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

/** A running ecosystem: its keeper and coordinator. */
export interface Ecosystem {
  name: string;
  keeper: Pid;
  coordinator: Pid;
}

interface Slot {
  slot: number;
  node: string | null;
  /** The slot's supervisor on its node, and our monitor of it. */
  supervisor: Pid | null;
  ref: Ref | null;
  worker: Pid | null;
  restarts: number;
  respawns: number;
  /** Scaled down: not placed again (unless scaled up). */
  retired: boolean;
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

let nextEcosystem = 1;

/** Registers the slot behaviour in `node`'s factory (every node does, at start). */
export function registerSlotBehaviour(node: Node): void {
  node.factory.register(SLOT_BEHAVIOUR, {
    kind: 'start',
    start: (ctx: ProcessContext, ...a: unknown[]) => {
      const spec = a[0] as { behaviour: string; args: unknown[]; slot: number; keeper: Pid; intensity: number; periodMs: number };
      return Supervisor.startLink(ctx, {
        strategy: 'oneForOne',
        intensity: spec.intensity,
        periodMs: spec.periodMs,
        children: [
          {
            id: 'worker',
            restart: 'permanent',
            start: async (c: ProcessContext) => {
              const pid = await node.factory.startLinked(c, spec.behaviour, spec.args);
              c.send(spec.keeper, { type: 'fdn.ecosystem.started', slot: spec.slot, pid } satisfies Started);
              return pid;
            },
          },
        ],
      });
    },
  });
}

/** Starts an ecosystem from this node; resolves once the coordinator runs and every slot was placed (or is waiting for a node). */
export async function spawnEcosystem<CS, CA>(node: Node, spec: EcosystemSpec<CS, CA>): Promise<Ecosystem> {
  if (!Number.isInteger(spec.workers.count) || spec.workers.count < 0) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, 'workers.count must be a non-negative integer');
  const policy = spec.distribution?.policy ?? 'clusterWide';
  if (!['clusterWide', 'explicitNodes', 'localOnly'].includes(policy)) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `unknown distribution policy '${policy}'`);
  const placement = spec.distribution?.placement ?? 'roundRobin';
  if (!['roundRobin', 'leastLoaded', 'random', 'topologyAware'].includes(placement)) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `unknown placement '${placement}'`);
  if (policy === 'explicitNodes' && (spec.distribution?.nodes ?? []).length === 0) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, "policy 'explicitNodes' needs distribution.nodes");
  const name = spec.name ?? `ecosystem-${String(nextEcosystem++)}`;
  const rt = node.runtime;
  const telemetry = rt.telemetry;
  const intensity = spec.intensity ?? 5;
  const periodMs = spec.periodMs ?? 5_000;

  const candidates = (lost: Set<string>): string[] => {
    const up = new Set(node.nodes());
    let nodes: string[];
    if (policy === 'localOnly') nodes = [node.name];
    else if (policy === 'explicitNodes') nodes = (spec.distribution?.nodes ?? []).filter((n) => n === node.name || up.has(n));
    else nodes = [...(spec.distribution?.excludeSelf === true ? [] : [node.name]), ...up];
    return nodes.filter((n) => !lost.has(n) || n === node.name).sort();
  };

  /** Places `slot` (or schedules a retry when no node can take it). */
  const placeSlot = async (ctx: ProcessContext, state: KeeperState, slot: Slot, kind: 'placed' | 'respawned', reason?: string): Promise<void> => {
    const placed = new Map<string, number>();
    for (const s of state.slots) if (s.node !== null && s !== slot) placed.set(s.node, (placed.get(s.node) ?? 0) + 1);
    const target = place(placement, {
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
      const { pid, ref } = await node.spawn(ctx, target, SLOT_BEHAVIOUR, [{ behaviour: spec.workers.behaviour, args: spec.workers.args ?? [], slot: slot.slot, keeper: ctx.self, intensity, periodMs }], { monitor: true });
      slot.node = target;
      slot.supervisor = pid;
      slot.ref = ref;
      state.history.push({ at: rt.clock.now(), slot: slot.slot, node: target, kind, ...(reason === undefined ? {} : { reason }) });
      telemetry.emit(`fdn.ecosystem.${kind === 'placed' ? 'placement' : 'respawn'}`, { slot: slot.slot }, { ecosystem: name, node: target, reason: reason ?? null });
    } catch (err) {
      rt.logger.warn(`ecosystem ${name}: slot ${String(slot.slot)} could not start on ${target}; trying again`, { reason: err });
      if ((err as { code?: string }).code === DistributionErrorCode.NOCONNECTION) state.lost.add(target);
      ctx.sendAfter(ctx.self, { type: 'fdn.ecosystem.retry', slot: slot.slot }, 200);
    }
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
    ctx.send(state.coordinator, { type: 'ecosystem.workers', keeper: ctx.self, workers, change } satisfies WorkersChanged);
  };

  const keeper: GenServerBehaviour<KeeperState, undefined, 'info', EcosystemInfo> = {
    name: `ecosystem keeper ${name}`,
    init: async (_args, ctx) => {
      const coordinator = await GenServer.startLink(ctx, spec.coordinator, spec.coordinatorArgs as CA);
      const slots: Slot[] = Array.from({ length: spec.workers.count }, (_, slot) => ({ slot, node: null, supervisor: null, ref: null, worker: null, restarts: 0, respawns: 0, retired: false }));
      if (spec.scaling !== undefined) ctx.sendAfter(ctx.self, { type: 'fdn.ecosystem.scale' }, spec.scaling.intervalMs ?? 1_000);
      return { type: 'ok', state: { slots, coordinator, turn: 0, history: [], lost: new Set(), metrics: {}, scaling: [], lastScaleAt: Number.NEGATIVE_INFINITY }, continue: 'place' };
    },
    handleContinue: async (_what, state, ctx) => {
      for (const slot of state.slots) await placeSlot(ctx, state, slot, 'placed');
      return { type: 'noreply', state };
    },
    handleCall: (_req, _from, state) => {
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
        const reason = msg.reason === 'noconnection' ? `node ${lostNode} lost` : `slot supervisor exited on ${lostNode}`;
        if (msg.reason === 'noconnection') state.lost.add(lostNode);
        slot.node = null;
        slot.supervisor = null;
        slot.ref = null;
        slot.worker = null;
        slot.respawns++;
        tell(ctx, state, { kind: 'lost', slot: slot.slot, node: lostNode });
        await placeSlot(ctx, state, slot, 'respawned', reason);
        return { type: 'noreply', state };
      }
      const m = msg as { type?: string; slot?: number; pid?: Pid };
      if (m.type === 'fdn.ecosystem.started' && m.pid !== undefined) {
        const slot = state.slots[m.slot ?? -1];
        if (slot?.node !== m.pid.node) return { type: 'noreply', state };
        const restarted = slot.worker !== null;
        if (restarted) {
          slot.restarts++;
          telemetry.emit('fdn.ecosystem.restart', { slot: slot.slot }, { ecosystem: name, node: slot.node });
        }
        slot.worker = m.pid;
        tell(ctx, state, { kind: restarted ? 'restarted' : slot.respawns > 0 ? 'respawned' : 'started', slot: slot.slot, node: slot.node });
        return { type: 'noreply', state };
      }
      if (m.type === 'fdn.ecosystem.metrics') {
        state.metrics = { ...(msg as { metrics: EcosystemMetrics }).metrics };
        return { type: 'noreply', state };
      }
      if (m.type === 'fdn.ecosystem.scale' && spec.scaling !== undefined) {
        await scale(ctx, state, spec.scaling);
        ctx.sendAfter(ctx.self, { type: 'fdn.ecosystem.scale' }, spec.scaling.intervalMs ?? 1_000);
        return { type: 'noreply', state };
      }
      if (m.type === 'fdn.ecosystem.retry') {
        const slot = state.slots[m.slot ?? -1];
        if (slot?.supervisor === null && !slot.retired) {
          // A lost node that came back may host again.
          for (const n of state.lost) if (node.nodes().includes(n)) state.lost.delete(n);
          await placeSlot(ctx, state, slot, slot.respawns > 0 ? 'respawned' : 'placed');
        }
      }
      return { type: 'noreply', state };
    },
  };

  const keeperPid = await GenServer.start(rt, keeper, undefined);
  const info = await GenServer.call<EcosystemInfo>(rt, keeperPid, 'info');
  return { name, keeper: keeperPid, coordinator: info.coordinator.pid };
}

/** Where everything of an ecosystem is, and what happened to it. */
export function ecosystemInfo(node: Node, eco: Ecosystem): Promise<EcosystemInfo> {
  return GenServer.call<EcosystemInfo>(node.runtime, eco.keeper, 'info');
}
