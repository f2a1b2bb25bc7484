// A node: an @fdn/actors runtime joined to a cluster by an @fdn/topology transport and overlay.
// This file is the facade: options, start and stop, and the public API, each delegating to the
// module of its concept (node/assemble.ts makes them and joins them):
//   node/dispatch.ts            inbound frames → the handler each feature registered for its kind
//   node/send.ts, outbound.ts   where a send goes; the send path (encode once, connection or overlay, at-least-once)
//   node/joined.ts              waiting to be part of a cluster
//   node/orderly-stop.ts        an orderly stop's steps, and the signals that start one
//   node/membership.ts          nodeup/nodedown, reconnect grace, restarts
//   signals/remote-signals.ts   remote messages, process links, monitors, exits; node loss
//   spawn/remote-spawn.ts       remote spawn and its limits
//   overlay/overlays.ts         current and pending overlay, Plumtree, a switch's steps
//   switching/                  the switch protocol and the advisor
//   load/load-reports.ts        load reports; registry/ the cluster registry and process groups
// Features above the node (ecosystems) install themselves through `NodeFeature`s.

import { createHmac } from 'node:crypto';
import type { Dest, Pid, ProcessContext, Ref, Runtime } from '@fdn/actors';
import type { Clock, Logger, Random } from '@fdn/core';
import { DEFAULT_CHANNEL } from '@fdn/topology';
import type { PeerService, PeerSpec, PlumtreeStats, Transport } from '@fdn/topology';
import { requireIdentity } from '../config/load.ts';
import { checkNodeOptions } from '../config/validate.ts';
import { DistributionError, DistributionErrorCode } from '../errors/errors.ts';
import type { ProcessFactory } from '../factory/factory.ts';
import type { NodeLoad } from '../load/load-reports.ts';
import type { ProcessGroups } from '../registry/groups.ts';
import type { TopologyName } from '../switching/topologies.ts';
import type { ProbeResult, SwitchRecord, SwitchResult, SwitchState, TopologyEpoch } from '../switching/switcher.ts';
import { assemble } from './assemble.ts';
import type { NodeParts } from './assemble.ts';
import { channelMetrics, unknownChannel } from './channels.ts';
import type { NodeChannelMetrics, NodeEvent, NodeOptions, NodeSendOptions, NodeSendStatus, RemoteSpawnOptions } from './options.ts';
import { whenJoined } from './joined.ts';
import { drainFeatures, stopInOrder, stopOnSignals } from './orderly-stop.ts';
import { Kind } from './protocol.ts';
import type { RoutingRule } from './routing.ts';
import { broadcastFrom, sendFrom } from './send.ts';

/**
 * A part of the node installed at its start by what uses it (ecosystems are one): `install` runs
 * once per node, after the node's own parts exist, and returns the feature's per-node state,
 * which `node.feature(f)` gives back. The node itself never imports a feature.
 */
export interface NodeFeature<T> {
  readonly name: string;
  install(node: Node): T;
  /**
   * When the node stops in order, after its peers were told it is leaving and before its processes
   * stop: hand off what the feature runs here (ecosystems move their worker slots to other nodes).
   * Bounded by the node's `drainTimeoutMs`.
   */
  drain?(node: Node, state: T, deadline: number): Promise<void>;
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
  /** The node's parts (see assemble.ts). */
  readonly #parts: NodeParts;
  readonly #features = new Map<NodeFeature<unknown>, unknown>();
  #stopping: Promise<void> | null = null;
  #removeSignalHandlers: (() => void) | null = null;

  /** @internal Use {@link startNode}: it also reads the environment and installs the default features. */
  constructor(options: NodeOptions, features: readonly NodeFeature<unknown>[] = []) {
    checkNodeOptions(options);
    requireIdentity(options);
    this.options = options;
    this.name = options.name;
    const parts = assemble(options);
    this.#parts = parts;
    this.#clock = parts.clock;
    this.random = parts.random;
    this.logger = parts.logger;
    this.transport = parts.transport;
    this.runtime = parts.runtime;
    this.pg = parts.pg;
    for (const feature of features) this.#features.set(feature, feature.install(this));
  }

  /** The state `feature` installed on this node; throws if it was not installed. */
  feature<T>(feature: NodeFeature<T>): T {
    if (!this.#features.has(feature)) throw new DistributionError(DistributionErrorCode.BAD_ARGUMENT, `the '${feature.name}' feature is not installed on ${this.name}: start the node with startNode (it installs the default features)`);
    return this.#features.get(feature) as T;
  }

  /** True when `feature` was installed on this node. */
  hasFeature(feature: NodeFeature<unknown>): boolean {
    return this.#features.has(feature);
  }

  /** @internal Use {@link startNode}. */
  async start(): Promise<void> {
    await this.#parts.overlays.current.start();
    if (this.options.handleSignals === true) this.#removeSignalHandlers = stopOnSignals(this, this.logger);
    this.#parts.loads.start();
  }

  // ==== The cluster ====

  /** The overlay the node runs now (it changes with `switchTopology`). */
  get overlay(): PeerService {
    return this.#parts.overlays.current;
  }

  /**
   * An HMAC-SHA256 of `data` under the cluster secret, for what nodes exchange outside their
   * authenticated connections (gossip discovery signs its UDP announcements with it): the secret
   * itself never leaves the node. `purpose` keeps one use's MACs from passing for another's.
   */
  mac(purpose: string, data: Uint8Array): Buffer {
    return createHmac('sha256', this.options.secret as string | Uint8Array).update(purpose).update('\0').update(data).digest();
  }

  /** The application's version this node runs (`appVersion`), if it was given. */
  get appVersion(): string | undefined {
    return this.transport.self.appVersion;
  }

  /** The application's version `node` said it runs, when this node has a connection to it that says. */
  appVersionOf(node: string): string | undefined {
    return node === this.name ? this.appVersion : this.transport.connection(node)?.peer.appVersion;
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
    return whenJoined(this.#parts, this.name, () => this.nodes().length, options.timeoutMs ?? 10_000);
  }

  /** Joins the cluster through `contact` (an address or a spec). */
  join(contact: string | PeerSpec): Promise<void> {
    return this.overlay.join(contact);
  }

  /**
   * Leaves the cluster gracefully; the node keeps running and can join again. As in an orderly
   * stop, its peers first hear that it is leaving (nothing new is placed on it, and the keepers
   * elsewhere move the ecosystem worker slots it hosts, for up to `drainTimeoutMs`); then it says
   * goodbye to the overlay (peers see `nodedown` with reason `left`).
   */
  async leave(): Promise<void> {
    for (const node of this.nodes()) this.#parts.outbound.send(node, [Kind.Leaving]);
    await this.#handOff();
    await this.overlay.leave();
  }

  /** Features hand off what they run here (bounded by `drainTimeoutMs`). */
  #handOff(): Promise<void> {
    return drainFeatures([...this.#features], this, this.#clock, this.options.drainTimeoutMs ?? 10_000, this.logger);
  }

  /**
   * Closes the connection to `node` (Erlang's `disconnect_node/1`): to it this node looks as if it
   * had crashed, and here it is a nodedown (`disconnected`). The overlay may connect again later, as
   * Erlang connects again on the next send. False when there was no connection.
   */
  disconnect(node: string): boolean {
    const connection = this.transport.connection(node);
    if (connection === undefined) return false;
    connection.close(`disconnected by ${this.name}`);
    return true;
  }

  /** The other nodes this node is connected to now, sorted. */
  nodes(): string[] {
    return this.#parts.overlays.nodes();
  }

  /** Calls `listener` when another node says it is stopping in order (before its nodedown); returns a function that removes it. */
  onNodeLeaving(listener: (node: string) => void): () => void {
    return this.#parts.membership.onLeaving(listener);
  }

  /** True while `node` (another node, or this one) is stopping in order: nothing new should be placed on it. */
  isLeaving(node: string): boolean {
    return node === this.name ? this.#stopping !== null : this.#parts.membership.isLeaving(node);
  }

  /**
   * Sends `{ type: 'nodeup', node }` and `{ type: 'nodedown', node, reason }` to `pid` (a local
   * process, Erlang's `net_kernel:monitor_nodes`) until it exits or `monitorNodes(pid, false)`.
   */
  monitorNodes(pid: Pid, on = true): void {
    this.#parts.membership.monitorNodes(pid, on);
  }

  /** Calls `listener` on every nodeup/nodedown; returns the unsubscribe function. */
  onNodeEvent(listener: (event: NodeEvent) => void): () => void {
    return this.#parts.membership.onNodeEvent(listener);
  }

  /** Plumtree's counters (broadcasts, duplicates, IHAVEs, grafts, prunes, exchanges; since the current overlay started) and this node's eager and lazy peers in its own broadcast tree. */
  broadcastStats(): PlumtreeStats & { eager: number; lazy: number } {
    return this.#parts.overlays.broadcastStats();
  }

  /** This node's load now (what it reports to the others). */
  load(): NodeLoad {
    return this.#parts.loads.load();
  }

  /** The last load `node` reported (this node's own, now), if any. */
  loadOf(node: string): NodeLoad | undefined {
    return node === this.name ? this.#parts.loads.load() : this.#parts.loads.reported(node);
  }

  // ==== Messages ====

  /**
   * Sends `msg` to a pid, a local name, or `{ name, node }`, on a chosen channel. Throws
   * FDN_ERR_ENCODE_FAILED when `msg` cannot cross nodes (a function, a symbol).
   */
  send(dest: Dest, msg: unknown, options: NodeSendOptions = {}): NodeSendStatus {
    return sendFrom(this.#parts, this.name, dest, msg, options);
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
    broadcastFrom(this.#parts, this.nodes(), name, msg, options.channel);
  }

  /**
   * Sets the rules that choose the channel of a send that names none (plain `ctx.send` to a
   * remote pid included): tried in order, first match wins, no match is `default`.
   */
  configureRouting(rules: RoutingRule[]): void {
    this.#parts.routes.configure(rules);
  }

  /** Figures of one channel, or of every channel, summed over this node's connections. */
  getChannelMetrics(channel: string): NodeChannelMetrics;
  getChannelMetrics(channel: 'all'): Record<string, NodeChannelMetrics>;
  getChannelMetrics(channel: string): NodeChannelMetrics | Record<string, NodeChannelMetrics> {
    if (channel === 'all') return Object.fromEntries([...this.transport.channels.keys()].map((c) => [c, channelMetrics(this.transport, this.#parts.outbound.reliable, c)]));
    if (!this.transport.channels.has(channel)) throw unknownChannel(channel, this.transport.channels.keys());
    return channelMetrics(this.transport, this.#parts.outbound.reliable, channel);
  }

  /** Messages of at-least-once channels not yet acknowledged (to `node`, or to anyone). */
  unacknowledged(node?: string): number {
    return this.#parts.outbound.reliable.unacked(node);
  }

  /**
   * Resolves when `node`'s connection can take more on `channel` (after a send answered
   * `backpressure` or `full`): the way for a fast producer to keep memory bounded.
   */
  async whenWritable(node: string, channel = DEFAULT_CHANNEL): Promise<void> {
    await this.transport.connection(node)?.whenWritable(channel);
  }

  /**
   * @internal Handles a frame from `from` (public so fuzz tests can feed frames without a socket
   * each). A frame this node cannot use (undecodable, not a protocol message, malformed) fails
   * alone: it is dropped and logged with FDN_ERR_DECODE_FAILED, and the connection and every other
   * message on it carry on.
   */
  receiveFrame(from: string, payload: Buffer): void {
    this.#parts.dispatch.receiveFrame(from, payload);
  }

  /** Values this node encoded for other nodes since it started: a broadcast or a registry update to n nodes counts one. */
  get encodes(): number {
    return this.#parts.codec.encodes;
  }

  /** Frames dropped because they could not be decoded or understood, since the node started. */
  get framesDropped(): number {
    return this.#parts.dispatch.dropped;
  }

  /**
   * Times this node stopped reading a channel for a turn of the event loop because its processes
   * had more work than a scheduler slice (the senders then see backpressure), since it started.
   */
  get inboundPauses(): number {
    return this.#parts.inbound.pauses;
  }

  // ==== Remote spawn ====

  /** The behaviours other nodes may spawn here (yours: `factory.register`). */
  get factory(): ProcessFactory {
    return this.#parts.spawn.factory;
  }

  /** @internal The node's own spawnable behaviours (ecosystem slots and candidates), apart from the user's. */
  get systemFactory(): ProcessFactory {
    return this.#parts.spawn.systemFactory;
  }

  /**
   * Spawns the behaviour registered as `behaviour` in `node`'s process factory, with `args`
   * (data, encoded like messages), under that node's supervisor. With `link` or `monitor`, `ctx`'s
   * process is linked to or monitors the new process from its first instant. Rejects with
   * FDN_ERR_UNKNOWN_BEHAVIOUR, FDN_ERR_SPAWN_FAILED, FDN_ERR_SPAWN_REFUSED, FDN_ERR_NOCONNECTION
   * or FDN_ERR_SPAWN_TIMEOUT.
   */
  spawn(ctx: ProcessContext | null, node: string, behaviour: string, args: unknown[] = [], options: RemoteSpawnOptions = {}): Promise<{ pid: Pid; ref: Ref | null }> {
    return this.#parts.spawn.spawn(ctx, node, behaviour, args, options, false);
  }

  /**
   * @internal Spawns one of the node's own behaviours (ecosystem slots and candidates) on `node`:
   * they are not in the user's factory, so a peer cannot reach them through `spawn`, and they
   * take only data that they check (no path, module or command).
   */
  spawnSystem(ctx: ProcessContext | null, node: string, behaviour: string, args: unknown[] = [], options: RemoteSpawnOptions = {}): Promise<{ pid: Pid; ref: Ref | null }> {
    return this.#parts.spawn.spawn(ctx, node, behaviour, args, options, true);
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
    return this.#parts.global.register(name, pid);
  }

  unregisterGlobal(name: string): void {
    this.#parts.global.unregister(name);
  }

  whereisGlobal(name: string): Pid | undefined {
    return this.#parts.global.whereis(name);
  }

  /** Every global name this node knows, sorted. */
  globalNames(): string[] {
    return this.#parts.global.names();
  }

  /** Sends to the process registered globally as `name`; false (nothing sent) if no such name is known. */
  sendGlobal(name: string, msg: unknown, options: NodeSendOptions = {}): boolean {
    const pid = this.#parts.global.whereis(name);
    if (pid === undefined) return false;
    this.send(pid, msg, options);
    return true;
  }

  // ==== Switching the overlay ====

  /** The current overlay by its topology name. */
  get topology(): TopologyName {
    return this.#parts.overlays.topo.topology;
  }

  /** The current overlay's topology, protocol tags, client-server servers and epoch (committed switches). */
  topologyEpoch(): TopologyEpoch {
    return this.#parts.overlays.topo;
  }

  /**
   * Switches every connected node to another overlay (`fullMesh`, `hyparview`, `clientServer`,
   * `static`, `pubSub` = HyParView with Plumtree broadcasts), gracefully: the new overlay comes up
   * beside the old on the same connections, membership is verified everywhere, then all cut over — or
   * all roll back. Errors: `already_current`, `cooldown_active` (automatic switches),
   * `verification_failed`, `unknown_topology`, `switch_in_progress`.
   */
  switchTopology(to: TopologyName, options: { reason?: string; auto?: boolean } = {}): Promise<SwitchResult> {
    return this.#parts.switcher.switchTo(to, options.reason ?? 'manual', options.auto === true);
  }

  /** Past switches asked by this node: `{ time, from, to, reason }`. */
  topologyHistory(): readonly SwitchRecord[] {
    return this.#parts.switcher.history;
  }

  /**
   * Measures broadcast reach and delay: a probe flooded over the overlay's neighbour connections, which
   * every node it reaches answers directly. `ms` runs to the last answer, so it bounds the delay
   * from above. Costs one message per overlay connection plus one answer per node: run it now and then.
   */
  probeBroadcast(timeoutMs = 5_000): Promise<ProbeResult> {
    return this.#parts.switcher.probe(this.nodes(), timeoutMs);
  }

  /** Where this node's switch machine is (`stable` unless it is asking for a switch). */
  get switchState(): SwitchState {
    return this.#parts.switcher.state;
  }

  /** True while this node asks for a topology switch or follows one another node asked for. */
  get switching(): boolean {
    return this.#parts.switcher.busy;
  }

  // ==== Fault injection ====

  /**
   * Fault injection for tests and drills: drops every distribution message to and from `nodes`
   * (connections stay up, heartbeats flow): a partition as processes see it, without touching the
   * network. `direction: 'out'` drops only what this node sends them, `'in'` only what they send
   * (an asymmetric partition). `unblockNodes()` heals it.
   */
  blockNodes(nodes: readonly string[], options: { direction?: 'both' | 'in' | 'out' } = {}): void {
    const direction = options.direction ?? 'both';
    for (const n of nodes) {
      if (direction !== 'in') this.#parts.outbound.block(n);
      if (direction !== 'out') this.#parts.dispatch.blockFrom(n);
    }
  }

  unblockNodes(): void {
    this.#parts.outbound.unblockAll();
    this.#parts.dispatch.unblockAll();
  }

  // ==== Stopping ====

  /**
   * Stops the node in order, as OTP stops an application: every local process tree is stopped
   * (newest first; supervisors stop their children in reverse start order within their
   * shutdown timeouts; `terminate` callbacks run, and can still reach other nodes), then the node
   * leaves the cluster (its peers see `left`, not a failure) and closes its connections. A process that
   * does not stop within `timeoutMs` (default 5,000) is killed. Calling it again returns the same
   * promise.
   */
  stop(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#stopping ??= this.#stopInOrder(options.timeoutMs ?? 5_000);
    return this.#stopping;
  }

  async #stopInOrder(timeoutMs: number): Promise<void> {
    this.#removeSignalHandlers?.();
    await stopInOrder(this.#parts, this.nodes(), () => this.#handOff(), timeoutMs);
  }
}
