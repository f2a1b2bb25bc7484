// A node: an @fdn/actors runtime joined to a cluster by an @fdn/topology transport and overlay.
// This file is the facade: options, start and stop, and the public API, each delegating to the
// module of its concept:
//   node/dispatch.ts            inbound frames → the handler each feature registered for its kind
//   node/outbound.ts            the send path (encode once, link or overlay, at-least-once)
//   node/membership.ts          nodeup/nodedown, reconnect grace, restarts
//   signals/remote-signals.ts   remote messages, links, monitors, exits; node loss
//   spawn/remote-spawn.ts       remote spawn and its limits
//   overlay/overlays.ts         current and pending overlay, Plumtree, a switch's steps
//   switching/                  the switch protocol and the advisor
//   load/load-reports.ts        load reports; registry/ the cluster registry and process groups
// Features above the node (ecosystems) install themselves through `NodeFeature`s.

import { createRuntime, isGlobalName, Pid } from '@fdn/actors';
import type { Dest, ProcessContext, Ref, RemoteEndpoint, Runtime } from '@fdn/actors';
import { defaultLogger, systemClock, systemRandom } from '@fdn/core';
import type { Clock, Logger, Random } from '@fdn/core';
import { createWsTransport, DEFAULT_CHANNEL } from '@fdn/topology';
import type { PeerService, PeerSpec, Transport } from '@fdn/topology';
import { Codec } from '../codec/codec.ts';
import { requireIdentity } from '../config/load.ts';
import { checkNodeOptions } from '../config/validate.ts';
import { DistributionError, DistributionErrorCode } from '../errors/errors.ts';
import type { ProcessFactory } from '../factory/factory.ts';
import { LoadReports } from '../load/load-reports.ts';
import type { NodeLoad } from '../load/load-reports.ts';
import { Overlays } from '../overlay/overlays.ts';
import { GlobalRegistry } from '../registry/global.ts';
import { ProcessGroups } from '../registry/groups.ts';
import { RemoteSignals } from '../signals/remote-signals.ts';
import { RemoteSpawn } from '../spawn/remote-spawn.ts';
import type { TopologyName } from '../switching/topologies.ts';
import { nodeSwitcher } from '../switching/node-switcher.ts';
import type { ProbeResult, SwitchRecord, SwitchResult, SwitchState, TopologyEpoch, TopologySwitcher } from '../switching/switcher.ts';
import { channelMetrics, transportChannels, unknownChannel } from './channels.ts';
import { Dispatcher } from './dispatch.ts';
import { Membership } from './membership.ts';
import type { NodeChannelMetrics, NodeEvent, NodeOptions, NodeSendOptions, NodeSendStatus, RemoteSpawnOptions } from './options.ts';
import { drainLinks, leaveWithin, queuedOnLinks, stopOnSignals } from './orderly-stop.ts';
import { Outbound } from './outbound.ts';
import { Kind } from './protocol.ts';
import { Router } from './routing.ts';
import type { RoutingRule } from './routing.ts';
import { nameHash, pairPartition } from '../signals/remote-signals.ts';

/**
 * A part of the node installed at its start by what uses it (ecosystems are one): `install` runs
 * once per node, after the node's own parts exist, and returns the feature's per-node state,
 * which `node.feature(f)` gives back. The node itself never imports a feature.
 */
export interface NodeFeature<T> {
  readonly name: string;
  install(node: Node): T;
}

/** A cluster node (see the file comment); start one with `startNode`. */
export class Node {
  readonly name: string;
  readonly runtime: Runtime;
  readonly transport: Transport;
  readonly logger: Logger;
  /** The node's random source (placement uses it). */
  readonly random: Random;
  /** @internal The options the node was started with (features read theirs). */
  readonly options: Readonly<NodeOptions>;
  /** Process groups across the cluster (OTP's `pg`): `pg.join(group, pid)`, `pg.members(group)`, `pg.monitor(group, pid)`, … */
  readonly pg: ProcessGroups;
  readonly #clock: Clock;
  readonly #codec: Codec;
  readonly #dispatch: Dispatcher;
  readonly #outbound: Outbound;
  readonly #membership: Membership;
  readonly #overlays: Overlays;
  readonly #spawn: RemoteSpawn;
  readonly #switcher: TopologySwitcher;
  readonly #loads: LoadReports;
  readonly #global: GlobalRegistry;
  readonly #routes: Router;
  /** The runtime's side of the seam to other nodes. */
  readonly #endpoint: RemoteEndpoint;
  readonly #features = new Map<NodeFeature<unknown>, unknown>();
  #stopping: Promise<void> | null = null;
  #removeSignalHandlers: (() => void) | null = null;

  /** @internal Use {@link startNode}: it also reads the environment and installs the default features. */
  constructor(options: NodeOptions, features: readonly NodeFeature<unknown>[] = []) {
    checkNodeOptions(options);
    requireIdentity(options);
    this.options = options;
    this.name = options.name;
    const clock = (this.#clock = options.clock ?? systemClock());
    const random = (this.random = options.random ?? systemRandom());
    const logger = (this.logger = options.logger ?? defaultLogger());
    // Validated even with an injected transport: a channel's node-level options must make sense.
    const channels = options.channels === undefined ? undefined : transportChannels(options.channels);
    const transport = (this.transport =
      options.transport ??
      createWsTransport(
        {
          name: options.name,
          secret: options.secret,
          ...(options.listen === undefined ? {} : { listen: options.listen }),
          ...(channels === undefined ? {} : { channels }),
          ...(options.failureDetector === undefined ? {} : { failureDetector: options.failureDetector }),
          ...(options.heartbeatMs === undefined ? {} : { pingIntervalMs: options.heartbeatMs }),
          ...(options.tls === undefined ? {} : { tls: options.tls }),
          ...(options.advertise === undefined ? {} : { advertise: [...options.advertise] }),
        },
        { clock, logger: logger.child({ component: 'transport' }), random },
      ));
    const runtime = (this.runtime = createRuntime({ node: options.name, incarnation: transport.self.incarnation, clock, logger, random }));
    const codec = (this.#codec = new Codec(runtime));
    const dispatch = (this.#dispatch = new Dispatcher(codec, clock, logger));
    const receiveFrame = (from: string, payload: Buffer): void => {
      dispatch.receiveFrame(from, payload);
    };

    const atLeastOnce = new Set<string>();
    const broadcastModes = new Map<string, 'direct' | 'plumtree'>();
    for (const name of transport.channels.keys()) {
      const c = options.channels?.[name];
      if (c?.reliability === 'at_least_once') atLeastOnce.add(name);
      if (c?.broadcast !== undefined) broadcastModes.set(name, c.broadcast);
    }
    this.#routes = new Router(new Set([...transport.channels.keys()].filter((c) => c !== 'control')));

    const membership = (this.#membership = new Membership(
      { name: this.name, runtime, clock, logger, linkIncarnation: (node) => transport.link(node)?.peer.incarnation, nodes: () => this.nodes(), stopped: () => this.#outbound.stopped },
      options.reconnectGraceMs ?? 0,
    ));
    const overlays = (this.#overlays = new Overlays(
      {
        name: this.name,
        transport,
        clock,
        random,
        logger,
        receiveFrame,
        up: (node) => {
          membership.up(node);
        },
        down: (node, kind) => {
          membership.down(node, kind);
        },
        send: (node, m) => this.#outbound.send(node, m),
        adopted: (record) => {
          this.#switcher.record(record);
        },
      },
      { overlay: options.overlay, seeds: options.seeds ?? [], servers: options.topology?.servers, broadcastModes },
    ));
    const outbound = (this.#outbound = new Outbound({ codec, transport, clock, logger, overlay: () => overlays.current, deliver: receiveFrame }, atLeastOnce, options.reliable));
    const send = (node: string, m: readonly [Kind, ...unknown[]]): void => {
      outbound.send(node, m);
    };
    const explain = (node: string): string => membership.explainNoconnection(node);
    const isUp = (node: string): boolean => overlays.current.isUp(node);

    const signals = new RemoteSignals({
      runtime,
      send: (node, m, channel, partitionKey) => outbound.send(node, m, channel, partitionKey),
      route: (msg) => this.#routes.route(msg) ?? DEFAULT_CHANNEL,
      isParallel: (channel) => this.#outbound.isParallel(channel),
      isUp,
      resolveGlobal: (name) => this.#global.whereis(name),
      explainNoconnection: explain,
    });
    this.#global = new GlobalRegistry({
      runtime,
      endpoint: signals.endpoint,
      clock,
      logger: logger.child({ component: 'global' }),
      nodes: () => this.nodes(),
      sendRegistry: (node, m) => {
        send(node, [Kind.Registry, m]);
      },
      broadcastRegistry: (nodes, m) => {
        outbound.sendToAll(nodes, [Kind.Registry, m]);
      },
    });
    this.pg = new ProcessGroups({
      runtime,
      endpoint: signals.endpoint,
      nodes: () => this.nodes(),
      sendGroups: (node, m) => {
        send(node, [Kind.Groups, m]);
      },
      broadcastGroups: (nodes, m) => {
        outbound.sendToAll(nodes, [Kind.Groups, m]);
      },
    });
    this.#endpoint = signals.endpoint;
    this.#spawn = new RemoteSpawn({ name: this.name, runtime, clock, signals, send, isUp, explainNoconnection: explain }, options.spawnLimits, options.spawnTimeoutMs ?? 5_000);
    this.#switcher = nodeSwitcher({ name: this.name, clock, random, codec, overlays, nodes: () => this.nodes(), send, mayReach: (node) => !outbound.stopped && !outbound.isBlocked(node) }, dispatch, options.topology ?? {});
    this.#loads = new LoadReports({ runtime, clock, nodes: () => this.nodes(), send }, options.loadReportMs ?? 1_000);

    // What arrives, by kind.
    signals.register(dispatch);
    this.#spawn.register(dispatch);
    dispatch.register(Kind.Registry, (from, m) => {
      this.#global.receive(from, m[1]);
    });
    dispatch.register(Kind.Groups, (from, m) => {
      this.pg.receive(from, m[1]);
    });
    dispatch.register(
      Kind.Reliable,
      (from, m, rest) => {
        outbound.receiveReliable(from, m, rest);
      },
      { rest: true },
    );
    dispatch.register(Kind.Load, (from, m) => {
      this.#loads.receive(from, m);
    });
    dispatch.register(Kind.Leaving, (from) => {
      membership.markLeaving(from);
    });

    // Nodes coming and going, in this order: what is in flight to a lost node fails first.
    membership.onUp((node) => {
      this.#global.nodeUp(node);
      this.pg.nodeUp(node);
    });
    membership.onLost((node, why) => {
      outbound.nodeLost(node);
      this.#spawn.nodeLost(node, why);
      this.#switcher.nodeDown(node);
      overlays.nodeLost(node);
      this.#global.nodeDown(node);
      this.pg.nodeDown(node);
      this.#loads.nodeLost(node);
      signals.nodeLost(node);
    });
    transport.on('linkUp', (link) => {
      membership.linkUp(link);
      outbound.reliable.linkUp(link.peer.name, link.peer.incarnation);
      // A node behind on switches (it joined late, or missed a commit) adopts the newer overlay.
      if (overlays.topo.epoch > 0) overlays.tellEpochTo(link.peer.name);
    });
    for (const feature of features) this.#features.set(feature, feature.install(this));
  }

  /** The state `feature` installed on this node; throws if it was not installed. */
  feature<T>(feature: NodeFeature<T>): T {
    if (!this.#features.has(feature)) throw new DistributionError(DistributionErrorCode.BAD_ARGUMENT, `the '${feature.name}' feature is not installed on ${this.name}: start the node with startNode (it installs the default features)`);
    return this.#features.get(feature) as T;
  }

  /** @internal Use {@link startNode}. */
  async start(): Promise<void> {
    await this.#overlays.current.start();
    if (this.options.handleSignals === true) this.#removeSignalHandlers = stopOnSignals(this, this.logger);
    this.#loads.start();
  }

  // ==== The cluster ====

  /** The overlay the node runs now (it changes with `switchTopology`). */
  get overlay(): PeerService {
    return this.#overlays.current;
  }

  /** Where other nodes reach this one. */
  get addresses(): readonly string[] {
    return this.transport.self.addresses;
  }

  /**
   * Resolves once this node is connected to another node: at once if it has no seeds (a cluster
   * of its own until another node joins it). Rejects with FDN_ERR_NOT_JOINED after `timeoutMs`
   * (default 10,000), saying why: what each seed answered last. Meanwhile the node keeps trying
   * (and warns with backoff), so a later call can still succeed.
   */
  joined(options: { timeoutMs?: number } = {}): Promise<void> {
    const status = this.overlay.joinStatus();
    if (this.nodes().length > 0 || (status.seeds === 0 && this.overlay.kind !== 'static')) return Promise.resolve();
    const timeoutMs = options.timeoutMs ?? 10_000;
    const clock = this.#clock;
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        off();
        clock.clearTimer(timer);
      };
      const off = this.onNodeEvent((e) => {
        if (e.type !== 'nodeup') return;
        done();
        resolve();
      });
      const timer = clock.setTimer(timeoutMs, () => {
        done();
        const s = this.overlay.joinStatus();
        const why = s.lastFailure === null ? 'no seed has answered yet' : `the last seed to fail: ${s.lastFailure}`;
        reject(new DistributionError(DistributionErrorCode.NOT_JOINED, `${this.name} has not joined the cluster within ${String(timeoutMs)} ms (${String(s.attempts)} rounds through ${String(s.seeds)} seeds; ${why}). Check the seed addresses (ws://host:port), that a seed runs, and that every node has the same secret`));
      });
    });
  }

  /** Joins the cluster through `contact` (an address or a spec). */
  join(contact: string | PeerSpec): Promise<void> {
    return this.overlay.join(contact);
  }

  /** Leaves the cluster (the node keeps running and can join again). */
  leave(): Promise<void> {
    return this.overlay.leave();
  }

  /** The other nodes this node is connected to now, sorted. */
  nodes(): string[] {
    return this.#overlays.nodes();
  }

  /** True while `node` (another node, or this one) is stopping in order: nothing new should be placed on it. */
  isLeaving(node: string): boolean {
    return node === this.name ? this.#stopping !== null : this.#membership.isLeaving(node);
  }

  /**
   * Sends `{ type: 'nodeup', node }` and `{ type: 'nodedown', node, reason }` to `pid` (a local
   * process, Erlang's `net_kernel:monitor_nodes`) until it exits or `monitorNodes(pid, false)`.
   */
  monitorNodes(pid: Pid, on = true): void {
    this.#membership.monitorNodes(pid, on);
  }

  /** Calls `listener` on every nodeup/nodedown; returns the unsubscribe function. */
  onNodeEvent(listener: (event: NodeEvent) => void): () => void {
    return this.#membership.onNodeEvent(listener);
  }

  /** This node's load now (what it reports to the others). */
  load(): NodeLoad {
    return this.#loads.load();
  }

  /** The last load `node` reported (this node's own, now), if any. */
  loadOf(node: string): NodeLoad | undefined {
    return node === this.name ? this.#loads.load() : this.#loads.reported(node);
  }

  // ==== Messages ====

  /**
   * Sends `msg` to a pid, a local name, or `{ name, node }`, on a chosen channel. Throws
   * FDN_ERR_ENCODE_FAILED when `msg` cannot cross nodes (a function, a symbol).
   */
  send(dest: Dest, msg: unknown, options: NodeSendOptions = {}): NodeSendStatus {
    const channel = options.channel ?? this.#routes.route(msg) ?? DEFAULT_CHANNEL;
    const reliable = options.reliability === 'at_least_once';
    if (isGlobalName(dest)) {
      const pid = this.#global.whereis(dest.global);
      if (pid === undefined) throw new DistributionError(DistributionErrorCode.NOT_REGISTERED, `no process is registered globally as '${dest.global}'; check whereisGlobal() first or send to a pid`);
      return this.send(pid, msg, options);
    }
    const outbound = this.#outbound;
    // The default partition key (the receiver, for a send from outside any process) only where a channel has several connections.
    if (dest instanceof Pid && dest.node !== this.name) return outbound.send(dest.node, [Kind.Send, dest, msg], channel, options.partitionKey ?? (outbound.isParallel(channel) ? pairPartition(null, dest.id) : undefined), reliable);
    if (typeof dest === 'object' && !(dest instanceof Pid) && dest.node !== this.name) return outbound.send(dest.node, [Kind.SendNamed, dest.name, msg], channel, options.partitionKey ?? (outbound.isParallel(channel) ? pairPartition(null, nameHash(dest.name)) : undefined), reliable);
    this.runtime.send(dest, msg);
    return 'local';
  }

  /** `send` on a named channel (the channels document's `send_message(channel, dest, msg, opts)`). */
  sendMessage(channel: string, dest: Dest, msg: unknown, options: Omit<NodeSendOptions, 'channel'> = {}): NodeSendStatus {
    if (!this.transport.channels.has(channel) || channel === 'control') throw unknownChannel(channel, this.transport.channels.keys());
    return this.send(dest, msg, { ...options, channel });
  }

  /**
   * Sends `msg` to the process registered as `name` on every node, this one included (OTP's
   * `abcast`), on `channel`: a send to each connected node, or one Plumtree broadcast over the
   * overlay, as the channel is configured. Nodes without such a process drop it. Encoded once.
   */
  broadcast(name: string, msg: unknown, options: { channel?: string } = {}): void {
    const channel = options.channel ?? this.#routes.route(msg) ?? DEFAULT_CHANNEL;
    if (!this.transport.channels.has(channel) || channel === 'control') throw unknownChannel(channel, this.transport.channels.keys());
    if (this.#overlays.viaPlumtree(channel)) this.#overlays.broadcast(channel, this.#codec.encode([Kind.SendNamed, name, msg]));
    else this.#outbound.sendToAll(this.nodes(), [Kind.SendNamed, name, msg], channel);
    this.#endpoint.deliver(name, msg);
  }

  /**
   * Sets the rules that choose the channel of a send that names none (plain `ctx.send` to a
   * remote pid included): tried in order, first match wins, no match is `default`.
   */
  configureRouting(rules: RoutingRule[]): void {
    this.#routes.configure(rules);
  }

  /** Figures of one channel, or of every channel, summed over this node's links. */
  getChannelMetrics(channel: string): NodeChannelMetrics;
  getChannelMetrics(channel: 'all'): Record<string, NodeChannelMetrics>;
  getChannelMetrics(channel: string): NodeChannelMetrics | Record<string, NodeChannelMetrics> {
    if (channel === 'all') return Object.fromEntries([...this.transport.channels.keys()].map((c) => [c, channelMetrics(this.transport, this.#outbound.reliable, c)]));
    if (!this.transport.channels.has(channel)) throw unknownChannel(channel, this.transport.channels.keys());
    return channelMetrics(this.transport, this.#outbound.reliable, channel);
  }

  /** Messages of at-least-once channels not yet acknowledged (to `node`, or to anyone). */
  unacknowledged(node?: string): number {
    return this.#outbound.reliable.unacked(node);
  }

  /**
   * Resolves when `node`'s link can take more on `channel` (after a send answered
   * `backpressure` or `full`): the way for a fast producer to keep memory bounded.
   */
  async whenWritable(node: string, channel = DEFAULT_CHANNEL): Promise<void> {
    await this.transport.link(node)?.whenWritable(channel);
  }

  /**
   * @internal Handles a frame from `from` (public so fuzz tests can feed frames without a socket
   * each). A frame this node cannot use (undecodable, not a protocol message, malformed) fails
   * alone: it is dropped and logged with FDN_ERR_DECODE_FAILED, and the link and every other
   * message on it carry on.
   */
  receiveFrame(from: string, payload: Buffer): void {
    this.#dispatch.receiveFrame(from, payload);
  }

  /** Values this node encoded for other nodes since it started: a broadcast or a registry update to n nodes counts one. */
  get encodes(): number {
    return this.#codec.encodes;
  }

  /** Frames dropped because they could not be decoded or understood, since the node started. */
  get framesDropped(): number {
    return this.#dispatch.dropped;
  }

  // ==== Remote spawn ====

  /** The behaviours other nodes may spawn here (yours: `factory.register`). */
  get factory(): ProcessFactory {
    return this.#spawn.factory;
  }

  /** @internal The node's own spawnable behaviours (ecosystem slots and candidates), apart from the user's. */
  get systemFactory(): ProcessFactory {
    return this.#spawn.systemFactory;
  }

  /**
   * Spawns the behaviour registered as `behaviour` in `node`'s process factory, with `args`
   * (data, encoded like messages), under that node's supervisor. With `link` or `monitor`, `ctx`'s
   * process is linked to or monitors the new process from its first instant. Rejects with
   * FDN_ERR_UNKNOWN_BEHAVIOUR, FDN_ERR_SPAWN_FAILED, FDN_ERR_SPAWN_REFUSED, FDN_ERR_NOCONNECTION
   * or FDN_ERR_SPAWN_TIMEOUT.
   */
  spawn(ctx: ProcessContext | null, node: string, behaviour: string, args: unknown[] = [], options: RemoteSpawnOptions = {}): Promise<{ pid: Pid; ref: Ref | null }> {
    return this.#spawn.spawn(ctx, node, behaviour, args, options, false);
  }

  /**
   * @internal Spawns one of the node's own behaviours (ecosystem slots and candidates) on `node`:
   * they are not in the user's factory, so a peer cannot reach them through `spawn`, and they
   * take only data that they check (no path, module or command).
   */
  spawnSystem(ctx: ProcessContext | null, node: string, behaviour: string, args: unknown[] = [], options: RemoteSpawnOptions = {}): Promise<{ pid: Pid; ref: Ref | null }> {
    return this.#spawn.spawn(ctx, node, behaviour, args, options, true);
  }

  // ==== The cluster registry ====

  /**
   * Registers the live local process `pid` as `name` across the cluster (OTP's
   * `global:register_name`): every connected node is asked first, so of two nodes registering
   * one name at the same moment exactly one gets true. False if the name is taken. If a
   * partition hid another registration of the name, the lowest pid keeps it everywhere once they
   * meet, and the other process gets `{ type: 'global_name_conflict', name, winner }`. Freed the
   * moment the process exits (a supervisor restarting it can register again at once) or its node
   * is lost. Send to it with `ctx.send({ global: name }, msg)` or `GenServer.call(ctx, { global: name }, req)`.
   */
  registerGlobal(name: string, pid: Pid): Promise<boolean> {
    return this.#global.register(name, pid);
  }

  unregisterGlobal(name: string): void {
    this.#global.unregister(name);
  }

  whereisGlobal(name: string): Pid | undefined {
    return this.#global.whereis(name);
  }

  /** Every global name this node knows, sorted. */
  globalNames(): string[] {
    return this.#global.names();
  }

  /** Sends to the process registered globally as `name`; false (nothing sent) if no such name is known. */
  sendGlobal(name: string, msg: unknown, options: NodeSendOptions = {}): boolean {
    const pid = this.#global.whereis(name);
    if (pid === undefined) return false;
    this.send(pid, msg, options);
    return true;
  }

  // ==== Switching the overlay ====

  /** The current overlay by its topology name. */
  get topology(): TopologyName {
    return this.#overlays.topo.topology;
  }

  /** The current overlay's topology, protocol tags, client-server servers and epoch (committed switches). */
  topologyEpoch(): TopologyEpoch {
    return this.#overlays.topo;
  }

  /**
   * Switches every connected node to another overlay (`fullMesh`, `hyparview`, `clientServer`,
   * `static`, `pubSub` = HyParView with Plumtree broadcasts), gracefully: the new overlay comes up
   * beside the old on the same links, membership is verified everywhere, then all cut over — or
   * all roll back. Errors: `already_current`, `cooldown_active` (automatic switches),
   * `verification_failed`, `unknown_topology`, `switch_in_progress`.
   */
  switchTopology(to: TopologyName, options: { reason?: string; auto?: boolean } = {}): Promise<SwitchResult> {
    return this.#switcher.switchTo(to, options.reason ?? 'manual', options.auto === true);
  }

  /** Past switches asked by this node: `{ time, from, to, reason }`. */
  topologyHistory(): readonly SwitchRecord[] {
    return this.#switcher.history;
  }

  /**
   * Measures broadcast reach and delay: a probe flooded over the overlay's neighbour links, which
   * every node it reaches answers directly. `ms` runs to the last answer, so it bounds the delay
   * from above. Costs one message per overlay link plus one answer per node: run it now and then.
   */
  probeBroadcast(timeoutMs = 5_000): Promise<ProbeResult> {
    return this.#switcher.probe(this.nodes(), timeoutMs);
  }

  /** Where this node's switch machine is (`stable` unless it is asking for a switch). */
  get switchState(): SwitchState {
    return this.#switcher.state;
  }

  /** True while this node asks for a topology switch or follows one another node asked for. */
  get switching(): boolean {
    return this.#switcher.busy;
  }

  // ==== Fault injection ====

  /**
   * Fault injection for tests and drills: drops every distribution message to and from `nodes`
   * (links stay up, heartbeats flow): a partition as processes see it, without touching the
   * network. `direction: 'out'` drops only what this node sends them, `'in'` only what they send
   * (an asymmetric partition). `unblockNodes()` heals it.
   */
  blockNodes(nodes: readonly string[], options: { direction?: 'both' | 'in' | 'out' } = {}): void {
    const direction = options.direction ?? 'both';
    for (const n of nodes) {
      if (direction !== 'in') this.#outbound.block(n);
      if (direction !== 'out') this.#dispatch.blockFrom(n);
    }
  }

  unblockNodes(): void {
    this.#outbound.unblockAll();
    this.#dispatch.unblockAll();
  }

  // ==== Stopping ====

  /**
   * Stops the node in order, as OTP stops an application: every local process tree is stopped
   * (newest first; supervisors stop their children in reverse start order within their
   * shutdown timeouts; `terminate` callbacks run, and can still reach other nodes), then the node
   * leaves the cluster (its peers see `left`, not a failure) and closes its links. A process that
   * does not stop within `timeoutMs` (default 5,000) is killed. Calling it again returns the same
   * promise.
   */
  stop(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#stopping ??= this.#stopInOrder(options.timeoutMs ?? 5_000);
    return this.#stopping;
  }

  async #stopInOrder(timeoutMs: number): Promise<void> {
    this.#removeSignalHandlers?.();
    // Peers stop placing work here before this node's processes start to go.
    for (const node of this.nodes()) this.#outbound.send(node, [Kind.Leaving]);
    this.#spawn.stop();
    this.#loads.stop();
    this.#membership.stop();
    await this.runtime.stop({ timeoutMs });
    const { transport } = this;
    // What the stopping processes sent (a channel's first message may still wait for its socket) leaves before the links close.
    await drainLinks(this.#clock, 2_000, () => this.#outbound.waiting() + queuedOnLinks(transport));
    this.#outbound.stop();
    await this.#overlays.stop();
    await leaveWithin(this.overlay, this.#clock, 2_000, this.logger);
    await this.overlay.stop();
  }
}
