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
// coordinator's own checkpoints in a fenced store (checkpoint/store.ts). A new leader adopts the
// running slots (they are registered by name on their nodes) and restarts the coordinator from the
// checkpoint.
//
// Here: the feature (what every node offers: slots, candidates), `spawnEcosystem`, `rebalance`,
// `ecosystemInfo`. The keeper is keeper.ts; the specs and what travels between nodes, spec.ts.

import { GenServer, Supervisor } from '@fdn/actors';
import type { Pid, ProcessContext } from '@fdn/actors';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uniqueIds } from '@fdn/core';
import { FileStore } from '../checkpoint/store.ts';
import type { CheckpointStore } from '../checkpoint/store.ts';
import { DistributionError, DistributionErrorCode } from '../errors/errors.ts';
import type { Node, NodeFeature } from '../node/node.ts';
import { inspection } from '../inspect/inspection.ts';
import { ecosystemsOp } from './inspect.ts';
import { keeperBehaviour, keeperConfig } from './keeper.ts';
import type { KeeperConfig, Started } from './keeper.ts';
import { startLease } from './lease.ts';
import type { LeaseEvent } from './lease.ts';
import { CANDIDATE_BEHAVIOUR, channelsOf, checkFailoverData, checkSlotSpec, isFailover, keeperName, NAME, SLOT_BEHAVIOUR, slotName, strategyOf, validateSpec } from './spec.ts';
import type { Ecosystem, EcosystemInfo, EcosystemSpec, FailoverData, SlotSpec } from './spec.ts';

export { backlogPolicy, checkpoint, reportMetrics, SLOT_BEHAVIOUR, CANDIDATE_BEHAVIOUR } from './spec.ts';
export type { Ecosystem, EcosystemInfo, EcosystemMetrics, EcosystemSpec, FailoverCoordinator, FailoverInit, ScalingPolicy, ScalingSpec, WorkerRef, WorkersChanged } from './spec.ts';

/** What ecosystems keep per node. */
export interface EcosystemsOnNode {
  /** @internal The worker slots this node hosts (their supervisors), for the drain when it stops. */
  readonly slots: Map<Pid, SlotSpec>;
  /** Where this node keeps failover checkpoints: its own configuration, created on first use (never a path a peer sent). */
  readonly checkpointStore: CheckpointStore;
  /** Names for unnamed ecosystems, unique across nodes and restarts. */
  uniqueId(): string;
  /** @internal The keepers started on this node (the dead ones are dropped when next listed). */
  readonly keepers: Set<Pid>;
}

/**
 * Ecosystems as a feature of a node (`startNode` installs it): the slot and candidate behaviours
 * in the node's system factory, the node's checkpoint store, and its ids.
 */
export const ecosystems: NodeFeature<EcosystemsOnNode> = {
  name: 'ecosystems',
  install(node) {
    const slots = new Map<Pid, SlotSpec>();
    const keepers = new Set<Pid>();
    registerSlotBehaviour(node, slots);
    if (node.hasFeature(inspection)) node.feature(inspection).register('ecosystems', ecosystemsOp(keepers, () => slots.size));
    let store: CheckpointStore | undefined = node.options.checkpointStore;
    return {
      slots,
      get checkpointStore(): CheckpointStore {
        return (store ??= new FileStore(node.options.checkpointDir ?? join(tmpdir(), 'fdn-ecosystems')));
      },
      uniqueId: uniqueIds(node.random),
      keepers,
    };
  },
  /**
   * Waits until the keepers elsewhere have moved this node's slots away (they heard it is
   * leaving): a slot whose keeper runs here stops with it, and its failover takes over.
   */
  async drain(node, state, deadline) {
    const clock = node.runtime.clock;
    const movable = (): number => {
      let n = 0;
      for (const [pid, spec] of state.slots) {
        if (!node.runtime.isAlive(pid)) {
          state.slots.delete(pid);
          continue;
        }
        // Only a keeper on a node that stays can move it (one stopping too, or this one, will not).
        const staying = (k: string): boolean => k !== node.name && node.nodes().includes(k) && !node.isLeaving(k);
        const movedBy = spec.keeper === null ? (node.runtime.whereis(keeperName(spec.ecosystem)) === undefined && spec.candidates.some(staying)) : staying(spec.keeper.node);
        if (movedBy) n++;
      }
      return n;
    };
    // With no connection left (cut off, or its transport gone) nobody can take them: no wait.
    while (movable() > 0 && node.transport.connections().length > 0 && clock.now() < deadline) await new Promise<void>((resolve) => clock.setTimer(20, resolve));
  },
};

/**
 * Registers the ecosystem's own behaviours (a slot, a failover candidate) in `node`'s system
 * factory: not the user's, so `node.spawn` from a peer cannot reach them, and what they are sent
 * is checked field by field (a spec from another node is data, never a path or a module).
 */
export function registerSlotBehaviour(node: Node, hosted = new Map<Pid, SlotSpec>()): void {
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
        hosted.set(pid, spec);
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
      keeper = await startKeeper(node, config).catch((err: unknown) => {
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
  const keeperPid = await startKeeper(node, config);
  const info = await GenServer.call<EcosystemInfo>(node.runtime, keeperPid, 'info');
  return { name, keeper: keeperPid, coordinator: info.coordinator.pid, candidates: [] };
}

/** Starts a keeper on `node` and lists it among the node's keepers (what `fdn ecosystems` asks). */
async function startKeeper(node: Node, config: KeeperConfig): Promise<Pid> {
  const pid = await GenServer.start(node.runtime, keeperBehaviour(node, config), undefined);
  node.feature(ecosystems).keepers.add(pid);
  return pid;
}

/** The keeper of an ecosystem on `node`: places, watches and respawns the slots; runs the coordinator. */
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
