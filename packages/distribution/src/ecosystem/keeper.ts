// An ecosystem's keeper: a GenServer on an explicit state that places each worker slot on a node,
// respawns the slots of lost nodes, restarts siblings (oneForAll / restForOne), scales, rebalances,
// and with failover checkpoints the placement and the coordinator's checkpoint in a fenced store.

import { GenServer, isDownMessage, Pid, Supervisor } from '@fdn/actors';
import type { CallResult, DownMessage, From, GenServerBehaviour, InitResult, NoReplyResult, ProcessContext, Ref, RemoteName } from '@fdn/actors';
import type { Telemetry } from '@fdn/core';
import type { CheckpointStore } from '../checkpoint/store.ts';
import { DistributionErrorCode } from '../errors/errors.ts';
import type { Node } from '../node/node.ts';
import { newestVersion, place } from './placement.ts';
import type { Placement } from './placement.ts';
import { backlogPolicy, keeperName, SLOT_BEHAVIOUR, slotName } from './spec.ts';
import type { EcosystemInfo, EcosystemMetrics, FailoverData, FailoverInit, ScalingSpec, SlotSpec, WorkerRef, WorkersChanged } from './spec.ts';
import { inSpan } from '../trace/spans.ts';

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
  /** Stops listening for nodes that leave (at terminate). */
  offLeaving: () => void;
}

/** What a failover keeper saves: where each slot is, and the coordinator's last checkpoint. */
interface SavedPlacement {
  slots: { slot: number; node: string | null; retired: boolean }[];
  coordinator: unknown;
}

/** The messages a keeper handles besides DOWNs: from slots, the coordinator, and its own timers. */
interface KeeperMessage {
  type?: string;
  slot?: number;
  pid?: Pid;
  adopted?: boolean;
  value?: unknown;
  metrics?: EcosystemMetrics;
  node?: string;
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

/** What the keeper answers: its ecosystem's info, or (rebalance) how many workers moved. */
type KeeperCall = 'info' | 'rebalance';
type KeeperReply = EcosystemInfo | number;

/** The keeper's behaviour: a fresh {@link Keeper} over `node` and `k`. */
export function keeperBehaviour(node: Node, k: KeeperConfig): GenServerBehaviour<KeeperState, undefined, KeeperCall, KeeperReply> {
  return new Keeper(node, k);
}

/**
 * The keeper's callbacks in gen_server's order (init, handle_call, handle_info, handle_continue),
 * then the slot operations they share. Everything that changes lives in the {@link KeeperState}
 * each callback receives; the keeper object holds only the node and the read-only config.
 */
class Keeper implements GenServerBehaviour<KeeperState, undefined, KeeperCall, KeeperReply> {
  readonly name: string;

  constructor(
    private readonly node: Node,
    private readonly k: KeeperConfig,
  ) {
    this.name = `ecosystem keeper ${k.name}`;
  }

  // ==== gen_server callbacks ====

  async init(_args: undefined, ctx: ProcessContext): Promise<InitResult<KeeperState>> {
    const k = this.k;
    let slots: Slot[] = Array.from({ length: k.workers.count }, (_, slot) => newSlot(slot));
    let restored: unknown = undefined;
    if (k.failover !== null) {
      ctx.register(keeperName(k.name));
      const saved = (await k.failover.store.load(k.name))?.value as SavedPlacement | undefined;
      if (saved !== undefined) {
        slots = saved.slots.map((x) => ({ ...newSlot(x.slot), node: x.node, retired: x.retired }));
        restored = saved.coordinator;
      }
    }
    const coordinator = await k.startCoordinator(ctx, restored);
    if (k.failover !== null) this.#telemetry.emit('fdn.ecosystem.failover', { epoch: k.failover.epoch }, { ecosystem: k.name, node: this.node.name, restored: restored !== undefined });
    if (k.scaling !== null) ctx.sendAfter(ctx.self, { type: 'fdn.ecosystem.scale' }, k.scaling.intervalMs ?? 1_000);
    // A node that says it is stopping in order gets its slots moved off before it goes.
    const self = ctx.self;
    const offLeaving = this.node.onNodeLeaving((node) => {
      // A keeper killed (a failover's lease lost) runs no terminate: it forgets itself here.
      if (this.node.runtime.isAlive(self)) this.node.runtime.send(self, { type: 'fdn.ecosystem.drain', node });
      else offLeaving();
    });
    return { type: 'ok', state: { slots, coordinator, turn: 0, history: [], lost: new Set(), metrics: {}, scaling: [], lastScaleAt: Number.NEGATIVE_INFINITY, checkpoint: restored, offLeaving }, continue: 'place' };
  }

  async handleCall(req: KeeperCall, _from: From, state: KeeperState, ctx: ProcessContext): Promise<CallResult<KeeperState, KeeperReply>> {
    if (req === 'rebalance') return { type: 'reply', reply: await this.#rebalance(ctx, state), state };
    return { type: 'reply', reply: this.#info(state), state };
  }

  async handleInfo(msg: unknown, state: KeeperState, ctx: ProcessContext): Promise<NoReplyResult<KeeperState>> {
    if (isDownMessage(msg)) await this.#onSlotDown(ctx, state, msg);
    else {
      const m = msg as KeeperMessage;
      if (m.type === 'fdn.ecosystem.started' && m.pid !== undefined) this.#onStarted(ctx, state, m, m.pid);
      else if (m.type === 'fdn.ecosystem.checkpoint') {
        state.checkpoint = m.value;
        await this.#save(ctx, state);
      } else if (m.type === 'fdn.ecosystem.metrics') state.metrics = { ...m.metrics };
      else if (m.type === 'fdn.ecosystem.scale' && this.k.scaling !== null) {
        await this.#scale(ctx, state, this.k.scaling);
        ctx.sendAfter(ctx.self, { type: 'fdn.ecosystem.scale' }, this.k.scaling.intervalMs ?? 1_000);
      } else if (m.type === 'fdn.ecosystem.retry') await this.#onRetry(ctx, state, m.slot ?? -1);
      else if (m.type === 'fdn.ecosystem.drain' && m.node !== undefined) await this.#drain(ctx, state, m.node);
    }
    return { type: 'noreply', state };
  }

  /** After init: adopt the slots a previous keeper placed (failover), place the others. */
  async handleContinue(_what: unknown, state: KeeperState, ctx: ProcessContext): Promise<NoReplyResult<KeeperState>> {
    for (const slot of state.slots) {
      if (slot.retired) continue;
      if (slot.node !== null) this.#adopt(ctx, slot, slot.node);
      else await this.#placeSlot(ctx, state, slot, 'placed');
    }
    await this.#save(ctx, state);
    return { type: 'noreply', state };
  }

  terminate(_reason: unknown, state: KeeperState): void {
    state.offLeaving();
  }

  // ==== What handle_info reacts to ====

  /** A slot's supervisor is gone: its node was lost or left, or it exited. Respawned elsewhere. */
  async #onSlotDown(ctx: ProcessContext, state: KeeperState, msg: DownMessage): Promise<void> {
    const slot = state.slots.find((s) => s.ref?.equals(msg.ref) === true);
    if (slot === undefined) return;
    if (slot.retired) {
      // Scaled down: its supervisor stopped as asked.
      clearPlacement(slot);
      return;
    }
    const node = this.node;
    const lostNode = slot.node ?? '?';
    // Its node stopping in order: the slot stops with `shutdown`, maybe after the node is gone already.
    const leaving = node.isLeaving(lostNode) || !node.nodes().includes(lostNode);
    const reason = msg.reason === 'noconnection' ? `node ${lostNode} lost` : leaving ? `node ${lostNode} left` : `slot supervisor exited on ${lostNode}`;
    if (msg.reason === 'noconnection' || leaving) state.lost.add(lostNode);
    clearPlacement(slot);
    slot.respawns++;
    this.#tell(ctx, state, { kind: 'lost', slot: slot.slot, node: lostNode });
    await this.#placeSlot(ctx, state, slot, 'respawned', reason);
  }

  /** A slot's worker (re)started on its node; with oneForAll / restForOne a restart takes its siblings along. */
  #onStarted(ctx: ProcessContext, state: KeeperState, m: KeeperMessage, pid: Pid): void {
    const slot = state.slots[m.slot ?? -1];
    if (slot?.node !== pid.node) return;
    if (m.adopted === true && slot.worker !== null) return;
    let sibling = false;
    if (slot.restarting === true) {
      slot.restarting = false;
      sibling = true;
    }
    const restarted = slot.worker !== null && m.adopted !== true;
    if (restarted) {
      slot.restarts++;
      this.#telemetry.emit('fdn.ecosystem.restart', { slot: slot.slot }, { ecosystem: this.k.name, node: slot.node });
      // A worker crashed and restarted on its node: with oneForAll / restForOne, its siblings restart too.
      if (this.k.strategy !== 'oneForOne' && !sibling) this.#restartSiblings(ctx, state, slot);
    }
    slot.worker = pid;
    this.#tell(ctx, state, { kind: restarted ? 'restarted' : slot.respawns > 0 ? 'respawned' : 'started', slot: slot.slot, node: slot.node });
  }

  /** A placement that found no node (or failed) is tried again. */
  async #onRetry(ctx: ProcessContext, state: KeeperState, index: number): Promise<void> {
    const slot = state.slots[index];
    if (slot?.supervisor !== null || slot.retired) return;
    // A lost node that came back may host again.
    for (const n of state.lost) if (this.node.nodes().includes(n) && !this.node.isLeaving(n)) state.lost.delete(n);
    await this.#placeSlot(ctx, state, slot, slot.respawns > 0 ? 'respawned' : 'placed');
  }

  // ==== Slot operations ====

  get #telemetry(): Telemetry {
    return this.node.runtime.telemetry;
  }

  /** The nodes a slot may go to under the distribution policy, minus lost ones (this node always counts). */
  #candidates(lost: Set<string>): string[] {
    const { node, k } = this;
    const up = new Set(node.nodes().filter((n) => !node.isLeaving(n)));
    let nodes: string[];
    if (k.policy === 'localOnly') nodes = [node.name];
    else if (k.policy === 'explicitNodes') nodes = k.nodes.filter((n) => n === node.name || up.has(n));
    else nodes = [...(k.excludeSelf ? [] : [node.name]), ...up];
    // This node stopping in order takes nothing new either.
    const stopping = node.isLeaving(node.name);
    const usable = nodes.filter((n) => (!lost.has(n) || n === node.name) && !(stopping && n === node.name)).sort();
    // A rolling upgrade in progress: new workers go to the newest version.
    return newestVersion(usable, (n) => node.appVersionOf(n));
  }

  /** Places `slot` (or schedules a retry when no node can take it). */
  async #placeSlot(ctx: ProcessContext, state: KeeperState, slot: Slot, kind: 'placed' | 'respawned', reason?: string, on?: string): Promise<void> {
    const { node, k } = this;
    const placed = new Map<string, number>();
    for (const s of state.slots) if (s.node !== null && s !== slot) placed.set(s.node, (placed.get(s.node) ?? 0) + 1);
    const target = on ?? place(k.placement, {
      candidates: this.#candidates(state.lost),
      placed,
      load: (n) => node.loadOf(n),
      rttMs: (n) => (n === node.name ? 0 : node.transport.connection(n)?.rttMs),
      random: node.random,
      turn: state.turn++,
    });
    if (target === undefined) {
      ctx.sendAfter(ctx.self, { type: 'fdn.ecosystem.retry', slot: slot.slot }, 500);
      return;
    }
    try {
      await inSpan('fdn.ecosystem.place', { 'fdn.ecosystem': k.name, 'fdn.ecosystem.slot': slot.slot, 'fdn.ecosystem.placement': kind, 'fdn.node': target }, () => this.#startSlot(ctx, state, slot, kind, target, reason));
    } catch (err) {
      node.runtime.logger.warn(`ecosystem ${k.name}: slot ${String(slot.slot)} could not start on ${target}; trying again`, { reason: err });
      if ((err as { code?: string }).code === DistributionErrorCode.NOCONNECTION) state.lost.add(target);
      ctx.sendAfter(ctx.self, { type: 'fdn.ecosystem.retry', slot: slot.slot }, 200);
    }
  }

  /** Starts `slot`'s supervisor on `target` and records it. */
  async #startSlot(ctx: ProcessContext, state: KeeperState, slot: Slot, kind: 'placed' | 'respawned', target: string, reason: string | undefined): Promise<void> {
    const { node, k } = this;
    const slotSpec: SlotSpec = { ecosystem: k.name, behaviour: k.workers.behaviour, args: k.workers.args, slot: slot.slot, keeper: k.failover === null ? ctx.self : null, candidates: k.failover?.candidates ?? [], intensity: k.intensity, periodMs: k.periodMs };
    const { pid, ref } = await node.spawnSystem(ctx, target, SLOT_BEHAVIOUR, [slotSpec], { monitor: true });
    slot.node = target;
    slot.supervisor = pid;
    slot.ref = ref;
    state.history.push({ at: node.runtime.clock.now(), slot: slot.slot, node: target, kind, ...(reason === undefined ? {} : { reason }) });
    this.#telemetry.emit(`fdn.ecosystem.${kind === 'placed' ? 'placement' : 'respawn'}`, { slot: slot.slot }, { ecosystem: k.name, node: target, reason: reason ?? null });
    await this.#save(ctx, state);
  }


  /**
   * OTP's oneForAll / restForOne across nodes: the siblings' workers are terminated and restarted
   * by their own slot supervisors, from a helper process (the keeper keeps answering). Their new
   * pids come back as restarts; they do not cascade.
   */
  #restartSiblings(ctx: ProcessContext, state: KeeperState, crashed: Slot): void {
    const siblings = state.slots.filter((x) => x !== crashed && !x.retired && x.supervisor !== null && (this.k.strategy === 'oneForAll' || x.slot > crashed.slot));
    for (const x of siblings) x.restarting = true;
    ctx.spawn(async (c) => {
      for (const x of siblings) {
        const sup = x.supervisor;
        if (sup === null) continue;
        await Supervisor.terminateChild(c, sup, 'worker').catch(() => undefined);
        await Supervisor.restartChild(c, sup, 'worker').catch(() => undefined);
      }
    });
  }

  /**
   * Moves workers from the fullest nodes to the emptiest until no node has two more than another
   * (a node that joined takes its share). Each move stops the slot on its node and starts it on the
   * other; the coordinator is told (`retired`, then `started`). Returns how many moved.
   */
  async #rebalance(ctx: ProcessContext, state: KeeperState): Promise<number> {
    let moved = 0;
    // At most one move per slot: the loop ends.
    for (const _ of state.slots.slice()) {
      const nodes = this.#candidates(state.lost);
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
        this.#tell(ctx, state, { kind: 'retired', slot: slot.slot, node: from });
      }
      if (sup !== null) await GenServer.stop(ctx, sup, 'shutdown', 5_000).catch(() => undefined);
      slot.node = null;
      await this.#placeSlot(ctx, state, slot, 'placed', `rebalance from ${from}`, emptiest);
      moved++;
    }
    return moved;
  }

  /**
   * `from` is stopping in order: each of its slots is started on another node first, then stopped
   * there (a hand-off, not a loss: the worker count never dips, the coordinator hears `retired` and
   * `started`). Slots that find no other node stay and go with their node (then they are respawned).
   */
  async #drain(ctx: ProcessContext, state: KeeperState, from: string): Promise<void> {
    for (const slot of state.slots) {
      if (slot.retired || slot.node !== from) continue;
      const old = { supervisor: slot.supervisor, ref: slot.ref, worker: slot.worker };
      const placed = new Map<string, number>();
      for (const s of state.slots) if (s.node !== null && s !== slot) placed.set(s.node, (placed.get(s.node) ?? 0) + 1);
      const target = place(this.k.placement, { candidates: this.#candidates(state.lost), placed, load: (n) => this.node.loadOf(n), rttMs: (n) => (n === this.node.name ? 0 : this.node.transport.connection(n)?.rttMs), random: this.node.random, turn: state.turn++ });
      if (target === undefined) continue;
      // Not a loss: forget the old monitor first, so its DOWN does not respawn the slot.
      if (old.ref !== null) ctx.demonitor(old.ref, { flush: true });
      if (old.worker !== null) this.#tell(ctx, state, { kind: 'retired', slot: slot.slot, node: from });
      clearPlacement(slot);
      await this.#placeSlot(ctx, state, slot, 'placed', `drained from ${from}`, target);
      this.#telemetry.emit('fdn.ecosystem.handoff', { slot: slot.slot }, { ecosystem: this.k.name, from, to: slot.node });
      if (old.supervisor !== null) await GenServer.stop(ctx, old.supervisor, 'shutdown', 5_000).catch(() => undefined);
    }
  }

  /** One scaling step, if the policy wants another count, the bounds allow it and the cooldown is over. */
  async #scale(ctx: ProcessContext, state: KeeperState, scaling: ScalingSpec): Promise<void> {
    const active = state.slots.filter((s) => !s.retired);
    const current = active.length;
    const policy = scaling.policy ?? backlogPolicy();
    const wanted = Math.max(scaling.min, Math.min(scaling.max, Math.round(policy(state.metrics, current))));
    const now = this.node.runtime.clock.now();
    if (wanted === current || now - state.lastScaleAt < (scaling.cooldownMs ?? 30_000)) return;
    state.lastScaleAt = now;
    const reason = `policy: ${JSON.stringify(state.metrics)}`;
    state.scaling.push({ at: now, from: current, to: wanted, reason });
    this.#telemetry.emit('fdn.ecosystem.scale', { from: current, to: wanted }, { ecosystem: this.k.name, reason });
    if (wanted > current) {
      for (let n = current; n < wanted; n++) {
        let slot = state.slots.find((s) => s.retired && s.supervisor === null);
        if (slot === undefined) {
          slot = newSlot(state.slots.length);
          state.slots.push(slot);
        }
        slot.retired = false;
        await this.#placeSlot(ctx, state, slot, 'placed');
      }
      return;
    }
    // Down: the newest slots go first.
    for (const slot of active.slice(wanted).reverse()) {
      slot.retired = true;
      if (slot.worker !== null && slot.node !== null) {
        const at = slot.node;
        slot.worker = null;
        this.#tell(ctx, state, { kind: 'retired', slot: slot.slot, node: at });
      }
      // A supervisor traps exits; it stops in order when asked as a process (OTP's sys stop).
      if (slot.supervisor !== null) await GenServer.stop(ctx, slot.supervisor, 'shutdown', 5_000).catch(() => undefined);
    }
  }

  /** Tells the coordinator the current workers and what changed. */
  #tell(ctx: ProcessContext, state: KeeperState, change: WorkersChanged['change']): void {
    const workers: WorkerRef[] = [];
    for (const s of state.slots) if (s.worker !== null && s.node !== null && !s.retired) workers.push({ slot: s.slot, pid: s.worker, node: s.node });
    ctx.send(state.coordinator, { type: 'ecosystem.workers', keeper: ctx.self, channels: this.k.channels, workers, change } satisfies WorkersChanged);
  }

  /**
   * A slot placed by an earlier keeper: watched by its name on its node at once; its worker is
   * asked for by a helper process (an unreachable node must not hold the keeper up). If the slot is
   * gone, the monitor's DOWN places it again.
   */
  #adopt(ctx: ProcessContext, slot: Slot, at: string): void {
    const sup: RemoteName = { name: slotName(this.k.name, slot.slot), node: at };
    slot.ref = ctx.monitor(sup);
    slot.supervisor = sup;
    const keeper = ctx.self;
    ctx.spawn(async (c) => {
      const children = await Supervisor.whichChildren(c, sup).catch(() => []);
      const worker = children.find((x) => x.id === 'worker')?.pid;
      if (worker instanceof Pid && worker.node === at) c.send(keeper, { type: 'fdn.ecosystem.started', slot: slot.slot, pid: worker, adopted: true });
    });
  }

  /** Failover: the slots' placement and the coordinator's checkpoint, under this keeper's epoch. A newer epoch in the store means we lost the lease: stop. */
  async #save(ctx: ProcessContext, state: KeeperState): Promise<void> {
    const f = this.k.failover;
    if (f === null) return;
    const value: SavedPlacement = { slots: state.slots.map((x) => ({ slot: x.slot, node: x.node, retired: x.retired })), coordinator: state.checkpoint };
    try {
      await f.store.save(this.k.name, f.epoch, value);
    } catch (err) {
      this.node.runtime.logger.warn(`ecosystem ${this.k.name}: keeper of epoch ${String(f.epoch)} is fenced off; stopping`, { reason: err });
      ctx.exit('fenced');
    }
  }

  #info(state: KeeperState): EcosystemInfo {
    const workersPerNode: Record<string, number> = {};
    for (const s of state.slots) if (s.node !== null && s.worker !== null && !s.retired) workersPerNode[s.node] = (workersPerNode[s.node] ?? 0) + 1;
    return {
      name: this.k.name,
      coordinator: { pid: state.coordinator, node: state.coordinator.node },
      workersPerNode,
      slots: state.slots.map((s) => ({ slot: s.slot, node: s.node, worker: s.worker, restarts: s.restarts, respawns: s.respawns })),
      restarts: state.slots.reduce((n, s) => n + s.restarts, 0),
      respawns: state.slots.reduce((n, s) => n + s.respawns, 0),
      history: state.history.slice(),
      scaling: state.scaling.slice(),
      leaseEpoch: this.k.failover?.epoch ?? null,
    };
  }
}

function newSlot(slot: number): Slot {
  return { slot, node: null, supervisor: null, ref: null, worker: null, restarts: 0, respawns: 0, retired: false };
}

/** The slot is placed nowhere (its supervisor is gone or going). */
function clearPlacement(slot: Slot): void {
  slot.node = null;
  slot.supervisor = null;
  slot.ref = null;
  slot.worker = null;
}
