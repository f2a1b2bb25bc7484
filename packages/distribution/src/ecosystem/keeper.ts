// An ecosystem's keeper: a GenServer on an explicit state that places each worker slot on a node,
// respawns the slots of lost nodes, restarts siblings (oneForAll / restForOne), scales, rebalances,
// and with failover checkpoints the placement and the coordinator's checkpoint in a fenced store.

import { GenServer, isDownMessage, Pid, Supervisor } from '@fdn/actors';
import type { GenServerBehaviour, ProcessContext, Ref, RemoteName } from '@fdn/actors';
import type { CheckpointStore } from '../checkpoint/store.ts';
import { DistributionErrorCode } from '../errors/errors.ts';
import type { Node } from '../node/node.ts';
import { place } from './placement.ts';
import type { Placement } from './placement.ts';
import { backlogPolicy, keeperName, SLOT_BEHAVIOUR, slotName } from './spec.ts';
import type { EcosystemInfo, EcosystemMetrics, FailoverData, FailoverInit, ScalingSpec, SlotSpec, WorkerRef, WorkersChanged } from './spec.ts';

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
  /** The coordinator's last checkpoint (failover: saved with the placement). */
  checkpoint: unknown;
}

export interface Started {
  type: 'fdn.ecosystem.started';
  slot: number;
  pid: Pid;
}

/** What a keeper needs: the spec as data, how to start the coordinator, and (failover) its lease. */
export interface KeeperConfig {
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

export function keeperConfig(node: Node, data: FailoverData, failover: NonNullable<KeeperConfig['failover']>): KeeperConfig {
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

export function keeperBehaviour(node: Node, k: KeeperConfig): GenServerBehaviour<KeeperState, undefined, 'info' | 'rebalance', EcosystemInfo | number> {
  const { name, workers: spec } = k;
  const rt = node.runtime;
  const telemetry = rt.telemetry;
  const { intensity, periodMs, policy, placement } = k;
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
    const value = { slots: state.slots.map((x) => ({ slot: x.slot, node: x.node, retired: x.retired })), coordinator: state.checkpoint };
    try {
      await f.store.save(name, f.epoch, value);
    } catch (err) {
      rt.logger.warn(`ecosystem ${name}: keeper of epoch ${String(f.epoch)} is fenced off; stopping`, { reason: err });
      ctx.exit('fenced');
    }
  };

  // The callbacks in gen_server's order: init, handle_call, handle_info, handle_continue.
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
        }
      }
      const coordinator = await k.startCoordinator(ctx, restored);
      if (k.failover !== null) telemetry.emit('fdn.ecosystem.failover', { epoch: k.failover.epoch }, { ecosystem: name, node: node.name, restored: restored !== undefined });
      if (k.scaling !== null) ctx.sendAfter(ctx.self, { type: 'fdn.ecosystem.scale' }, k.scaling.intervalMs ?? 1_000);
      return { type: 'ok', state: { slots, coordinator, turn: 0, history: [], lost: new Set(), metrics: {}, scaling: [], lastScaleAt: Number.NEGATIVE_INFINITY, checkpoint: restored }, continue: 'place' };
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
        state.checkpoint = (msg as { value: unknown }).value;
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
    handleContinue: async (_what, state, ctx) => {
      for (const slot of state.slots) {
        if (slot.retired) continue;
        if (slot.node !== null) adopt(ctx, slot, slot.node);
        else await placeSlot(ctx, state, slot, 'placed');
      }
      await save(ctx, state);
      return { type: 'noreply', state };
    },
  };

}

