// A node: an @fdn/actors runtime joined to a cluster by an @fdn/topology transport and peer
// service. A pid on another node is used exactly like a local one: the runtime hands what leaves
// the node to this node's router, which encodes it and sends it on the link to the pid's node;
// what arrives is decoded and given to the runtime. Links and monitors across nodes are tracked
// per remote node, so when a node is lost every process linked to or monitoring one of its
// processes gets `noconnection` at once.

import { createRuntime, isGlobalName, Pid, Ref } from '@fdn/actors';
import type { Dest, ProcessContext, RemoteName, RemoteRouter, Runtime } from '@fdn/actors';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { IntervalHistogram } from 'node:perf_hooks';
import { defaultLogger, systemClock, systemRandom } from '@fdn/core';
import type { Clock, Logger, Random } from '@fdn/core';
import { clientServer, createWsTransport, DEFAULT_CHANNEL, fullMesh, hyparview, MessageLog, Plumtree, staticMembers } from '@fdn/topology';
import type { ChannelMetrics, ChannelOptions, ClientServerOptions, PhiAccrualOptions, FullMeshOptions, HyParViewOptions, Link, PeerService, PeerSpec, PlumtreeOptions, SendOptions, StaticOptions, TlsOptions, Transport } from '@fdn/topology';
import { Codec } from '../codec/codec.ts';
import { optionsFromEnvironment } from '../config/environment.ts';
import { requireIdentity } from '../config/load.ts';
import { checkNodeOptions } from '../config/validate.ts';
import { DistributionError, DistributionErrorCode } from '../errors/errors.ts';
import { ProcessFactory } from '../factory/factory.ts';
import { FileStore } from '../ecosystem/store.ts';
import type { CheckpointStore } from '../ecosystem/store.ts';
import { SpawnLimiter } from './spawn-limits.ts';
import type { SpawnLimits } from './spawn-limits.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerSlotBehaviour } from '../ecosystem/ecosystem.ts';
import type { NodeLoad } from '../ecosystem/placement.ts';
import { GlobalRegistry } from '../registry/global.ts';
import { ProcessGroups } from '../registry/groups.ts';
import { Kind } from './protocol.ts';
import { ReliableChannels } from './reliable.ts';
import { Router } from './routing.ts';
import { newerEpoch, parseSwitchMessage, TopologySwitcher } from '../topology/switch.ts';
import type { ProbeResult, SwitchOptions, SwitchRecord, SwitchResult, SwitchState, TopologyEpoch } from '../topology/switch.ts';
import type { TopologyName } from '../topology/advisor.ts';
import type { RoutingRule } from './routing.ts';
import type { ReliableFrame, ReliableOptions } from './reliable.ts';
import type { Message } from './protocol.ts';

/** Which overlay, and its options. */
export type OverlayConfig =
  | 'fullMesh'
  | 'hyparview'
  | ({ kind: 'fullMesh' } & FullMeshOptions)
  | ({ kind: 'hyparview'; directory?: boolean } & HyParViewOptions)
  | ({ kind: 'clientServer' } & ClientServerOptions)
  | ({ kind: 'static' } & StaticOptions)
  /** HyParView with every channel's broadcasts on a Plumtree tuned for event traffic. */
  | 'pubSub'
  | ({ kind: 'pubSub'; directory?: boolean } & HyParViewOptions);

/**
 * A node's options. Every key is checked against the schema (`config/schema.ts`) before anything
 * starts: an unknown key or a bad value is FDN_ERR_BAD_CONFIG naming it. `startNode` fills what is
 * left out from the environment (FDN_NAME, FDN_SECRET or FDN_SECRET_FILE, FDN_LISTEN, FDN_SEEDS).
 */
export interface NodeOptions {
  /** Unique in the cluster: letters, digits, `_`, `-`, `.`, `@` (or FDN_NAME). */
  name?: string | undefined;
  /** The cluster's shared secret, at least 8 characters or bytes, never sent: each link proves it with an HMAC (or FDN_SECRET / FDN_SECRET_FILE). */
  secret?: string | Uint8Array | undefined;
  /** Where to listen (default 127.0.0.1, an ephemeral port; `false` for a node that only dials; or FDN_LISTEN). */
  listen?: { host?: string; port?: number; backlog?: number } | false;
  /** Nodes to join through: addresses (`ws://127.0.0.1:4370`) or specs (or FDN_SEEDS, comma-separated). */
  seeds?: readonly (string | PeerSpec)[];
  /** The overlay (default `fullMesh`). */
  overlay?: OverlayConfig;
  /**
   * Channels besides control, default and bulk (or overriding them), each with the transport's
   * options plus `reliability`: `best_effort` (default: what the link delivers) or `at_least_once`
   * (numbered, acknowledged, resent after a reconnect, deduplicated: neither lost nor doubled
   * while both nodes live).
   */
  channels?: Record<string, NodeChannelOptions>;
  /** Bounds of the at-least-once store (per peer and channel). */
  reliable?: ReliableOptions;
  /** Remote spawns wait this long for an answer (default 5,000 ms). */
  spawnTimeoutMs?: number;
  /**
   * A dropped link that comes back to the same start of the node within this long is not a node
   * loss: no nodedown, links and monitors stay (default 0: every drop is a loss, as in Erlang).
   * Best-effort messages sent meanwhile may be lost; at-least-once ones are not.
   */
  reconnectGraceMs?: number;
  /** Addresses other nodes should dial to reach this one, when not where it listens (behind a proxy, NAT, a Kubernetes Service). */
  advertise?: readonly string[];
  /** Bounds on what spawns (remote ones above all) can make this node hold: see {@link SpawnLimits}. */
  spawnLimits?: SpawnLimits;
  /**
   * Where this node keeps the checkpoints of the failover ecosystems it is a candidate for: a
   * directory of its own choosing (default `fdn-ecosystems` in the OS temp dir). Never chosen by
   * another node. `checkpointStore` replaces it with any `CheckpointStore`.
   */
  checkpointDir?: string;
  checkpointStore?: CheckpointStore;
  /** How often this node reports its load to the others (default 1,000 ms; 0: never). */
  loadReportMs?: number;
  /** Topology switching: verification timeout, cooldown of automatic switches, and the servers of a client-server overlay (default: the first √n nodes by name). */
  topology?: SwitchOptions & { servers?: string[] };
  /**
   * Failure detection: heartbeats on the control channel every `heartbeatMs` (default 1,000), judged
   * by a φ accrual detector (default threshold 8, acceptable pause 3,000 ms; `false` for a plain
   * idle timeout). A SIGKILLed node is known at once (its sockets close); a frozen or cut-off one
   * after about heartbeat + pause + a few deviations (~5 s at the defaults).
   */
  failureDetector?: PhiAccrualOptions | false;
  heartbeatMs?: number;
  /**
   * A transport to run on instead of WebSockets (the simulator's `SimNetwork.transport(...)`, so a
   * whole cluster of nodes runs deterministically on a virtual clock). `listen`, `channels`'
   * transport options, `failureDetector` and `heartbeatMs` are then the transport's business.
   */
  transport?: Transport;
  /** TLS for every link (wss): this node's key and certificate, the CA to trust, and `mutual` to require certificates from nodes that dial in. */
  tls?: TlsOptions;
  /**
   * Stop in order on SIGTERM and SIGINT (`node.stop()`: terminate callbacks run, supervisors stop
   * their children, the node leaves the cluster), then exit with 0. Default false: the process's
   * signals are the application's to decide.
   */
  handleSignals?: boolean;
  clock?: Clock;
  random?: Random;
  logger?: Logger;
}

export type Reliability = 'best_effort' | 'at_least_once';

/** A channel as a node sees it: the transport's options, plus delivery and broadcast choices. */
export type NodeChannelOptions = ChannelOptions & {
  reliability?: Reliability;
  /** How `broadcast` on this channel reaches the nodes: a send to each (`direct`), or Plumtree over the overlay (default: `plumtree` under HyParView, else `direct`). */
  broadcast?: 'direct' | 'plumtree';
};

/** A channel's figures, summed over the links (see `getChannelMetrics`). */
export type NodeChannelMetrics = Omit<ChannelMetrics, 'sendLatencyMs' | 'connections'> & {
  /** At-least-once channels: messages not yet acknowledged. */
  unacknowledged: number;
  /** At-least-once channels: messages sent again (on a new link, or after silence). */
  resent: number;
  /** At-least-once channels: messages received again and dropped (delivered once already). */
  duplicatesDropped: number;
  /** At-least-once channels: messages received past a gap and dropped (they come again, in order). */
  gapsDropped: number;
  links: number;
};

/** Options of a send to a pid or name on any node. */
export interface NodeSendOptions {
  /** The channel (default `default`). Messages of one (sender, receiver) pair keep their order per channel. */
  channel?: string;
  /** Picks the channel's connection (default: the receiver, so one pair's messages never reorder). */
  partitionKey?: number;
  /** `at_least_once` for this message even on a best-effort channel (default: the channel's). */
  reliability?: Reliability;
}

/**
 * What a send to another node did: `sent` (queued on the link), `backpressure` (queued, but the
 * link's queue is over half full: slow down, see `whenWritable`), `full` or `dropped` (not sent:
 * the channel's queue is full, per its policy), `queued` (waiting for a link to open), `local`.
 */
export type NodeSendStatus = 'sent' | 'backpressure' | 'full' | 'dropped' | 'queued' | 'local';

/** A cluster node event. */
export type NodeEvent = { type: 'nodeup'; node: string } | { type: 'nodedown'; node: string; reason: string };

export interface RemoteSpawnOptions {
  /** Link the new process to `ctx`'s process (done on the target node before it runs, so no exit is missed). */
  link?: boolean;
  /** Monitor it from `ctx`'s process; the returned `ref` is the monitor's. */
  monitor?: boolean;
  /** Default: the node's `spawnTimeoutMs`. */
  timeoutMs?: number;
}

interface PendingSpawn {
  node: string;
  resolve: (pid: Pid) => void;
  reject: (err: Error) => void;
  timer: ReturnType<Clock['setTimer']>;
}

/** Per remote node: the links and monitors that cross to it, to be broken when it is lost. */
interface RemoteNodeState {
  /** `${local}|${remote}` → the pair. */
  links: Map<string, { local: Pid; remote: Pid }>;
  /** Monitors held by local processes on that node's processes, by ref. */
  watching: Map<string, { watcher: Pid; target: Pid; ref: Ref }>;
  /** Monitors held by that node's processes on local ones, by ref. */
  watchedBy: Map<string, { target: Pid; ref: Ref }>;
  /** Messages waiting for a link to open (in order), or null when none is opening. */
  pending: { channel: string; bytes: Buffer; options: SendOptions | undefined }[] | null;
}

/**
 * Starts a node: checks its options, listens, starts joining through its seeds, and resolves once
 * it runs (`await node.joined()` waits until it is connected). What the options leave out is
 * read from the environment: FDN_NAME, FDN_SECRET (or FDN_SECRET_FILE), FDN_LISTEN, FDN_SEEDS.
 * Throws FDN_ERR_BAD_CONFIG (every mistake, by key) or FDN_ERR_LISTEN_FAILED (the port is taken…).
 */
export async function startNode(options: NodeOptions = {}): Promise<Node> {
  if (typeof options !== 'object' || (options as unknown) === null) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, 'startNode needs an options object');
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as NodeOptions;
  const node = new Node({ ...optionsFromEnvironment(), ...given });
  await node.start();
  return node;
}

export class Node {
  readonly name: string;
  readonly runtime: Runtime;
  readonly transport: Transport;
  #overlay: PeerService;
  /**
   * The overlay's topology name, protocol tags (a switch brings the next overlay up on the other
   * ones), servers, and epoch: what nodes compare to converge on one overlay after switches.
   */
  #topo: TopologyEpoch;
  /** The overlay being brought up by a switch, not yet the node's, and what it will be. */
  #pending: { overlay: PeerService; topology: TopologyName; tags: 'primary' | 'alternate'; servers: string[] } | null = null;
  /** Channels whose broadcast mode the configuration chose (the others follow the topology). */
  readonly #broadcastModes = new Map<string, 'direct' | 'plumtree'>();
  /** The configured seeds: a HyParView brought up by a switch keeps them (it rejoins through them when isolated). */
  readonly #seeds: (string | PeerSpec)[];
  readonly #overlayComponents: Parameters<ReturnType<typeof fullMesh>>[0];
  readonly #switcher: TopologySwitcher;
  readonly #servers: string[] | undefined;
  /** The behaviours other nodes may spawn here (yours: `factory.register`). */
  readonly factory: ProcessFactory;
  /** @internal The node's own spawnable behaviours (ecosystem slots and candidates), apart from the user's. */
  readonly systemFactory: ProcessFactory;
  readonly #limits: SpawnLimiter;
  #checkpointStore: CheckpointStore | null;
  readonly logger: Logger;
  readonly #global: GlobalRegistry;
  readonly #reliable: ReliableChannels;
  /** Channels with at-least-once delivery. */
  readonly #atLeastOnce = new Set<string>();
  /** Channels whose broadcasts go over Plumtree. */
  readonly #plumtreeBroadcast = new Set<string>();
  readonly #routes: Router;
  /** Load reports of the other nodes (for `leastLoaded` placement). */
  readonly #loads = new Map<string, NodeLoad>();
  readonly #loadDelay: IntervalHistogram;
  #loadTimer: ReturnType<Clock['setTimer']> | null = null;
  readonly #loadReportMs: number;
  /** The node's random source (placement uses it). */
  readonly random: Random;
  #plumtree: Plumtree;
  /** Process groups across the cluster (OTP's `pg`): `pg.join(group, pid)`, `pg.members(group)`, `pg.monitor(group, pid)`, … */
  readonly pg: ProcessGroups;
  readonly #codec: Codec;
  readonly #clock: Clock;
  readonly #spawnTimeoutMs: number;
  readonly #remote = new Map<string, RemoteNodeState>();
  readonly #nodeWatchers = new Set<Pid>();
  readonly #listeners = new Set<(event: NodeEvent) => void>();
  readonly #spawns = new Map<number, PendingSpawn>();
  #nextSpawn = 1;
  #stopped = false;
  #stopping: Promise<void> | null = null;
  #removeSignalHandlers: (() => void) | null = null;
  readonly #options: NodeOptions;
  #framesDropped = 0;
  /** Nodes this node has been connected to, and when and why each was lost (for error messages). */
  readonly #seen = new Map<string, { lostAt: number | null; why: string | null }>();
  /** Links that dropped within the reconnect grace: the node is not lost (yet). */
  readonly #graced = new Map<string, { timer: ReturnType<Clock['setTimer']>; incarnation: number | undefined; reason: string }>();
  /** The incarnation each connected node had when it came up (a different one back within the grace is a restart). */
  readonly #incarnations = new Map<string, number>();
  readonly #reconnectGraceMs: number;
  /** Nodes that said they are stopping in order (until they are down). */
  readonly #leaving = new Set<string>();
  readonly #dropLog = new Map<string, { at: number; count: number }>();
  /** Fault injection: nodes whose distribution messages are dropped, to them and from them (see `blockNodes`). */
  readonly #blocked = new Set<string>();
  readonly #blockedFrom = new Set<string>();

  constructor(options: NodeOptions) {
    checkNodeOptions(options);
    requireIdentity(options);
    this.#options = options;
    this.name = options.name;
    this.#clock = options.clock ?? systemClock();
    const random = options.random ?? systemRandom();
    this.random = random;
    this.#loadReportMs = options.loadReportMs ?? 1_000;
    this.#loadDelay = monitorEventLoopDelay({ resolution: 10 });
    this.logger = options.logger ?? defaultLogger();
    this.#spawnTimeoutMs = options.spawnTimeoutMs ?? 5_000;
    this.#reconnectGraceMs = options.reconnectGraceMs ?? 0;
    // Validated even with an injected transport: a channel's node-level options must make sense.
    const channels = options.channels === undefined ? undefined : transportChannels(options.channels);
    this.transport =
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
        { clock: this.#clock, logger: this.logger.child({ component: 'transport' }), random },
      );
    this.runtime = createRuntime({ node: options.name, incarnation: this.transport.self.incarnation, clock: this.#clock, logger: this.logger, random });
    this.#overlayComponents = { transport: this.transport, clock: this.#clock, random, logger: this.logger.child({ component: 'overlay' }) };
    this.#seeds = [...(options.seeds ?? [])];
    this.#overlay = makeOverlay(options.overlay, this.#seeds, this.#overlayComponents);
    this.#servers = options.topology?.servers;
    this.factory = new ProcessFactory(this.runtime);
    this.systemFactory = new ProcessFactory(this.runtime);
    this.#limits = new SpawnLimiter(this.name, this.#clock, options.spawnLimits, (b) => this.factory.maxProcesses(b));
    this.#checkpointStore = options.checkpointStore ?? null;
    this.#codec = new Codec(this.runtime);
    for (const name of this.transport.channels.keys()) {
      const c = options.channels?.[name];
      if (c?.reliability === 'at_least_once') this.#atLeastOnce.add(name);
      if (c?.broadcast !== undefined) this.#broadcastModes.set(name, c.broadcast);
    }
    const configured = options.overlay === undefined ? 'fullMesh' : typeof options.overlay === 'string' ? options.overlay : options.overlay.kind;
    this.#topo = { epoch: 0, switchId: '', topology: configured, tags: 'primary', servers: this.#servers ?? [] };
    this.#routes = new Router(new Set([...this.transport.channels.keys()].filter((c) => c !== 'control')));
    this.#plumtree = this.#makePlumtree(this.#overlay);
    this.#reliable = new ReliableChannels(
      {
        incarnation: this.transport.self.incarnation,
        linkIncarnation: (node) => this.transport.link(node)?.peer.incarnation,
        transmit: (node, channel, frame) => this.#transmitReliable(node, channel, frame),
        deliver: (node, inner) => {
          this.receiveFrame(node, inner);
        },
        setTimer: (ms, fn) => this.#clock.setTimer(ms, fn),
        now: () => this.#clock.now(),
      },
      options.reliable,
    );
    this.transport.on('linkUp', (link) => {
      // A link to a node that went down within the reconnect grace, now back as another start: that was a restart, a loss.
      const graced = this.#graced.get(link.peer.name);
      if (graced?.incarnation !== undefined && graced.incarnation !== link.peer.incarnation) {
        this.#graced.delete(link.peer.name);
        this.#clock.clearTimer(graced.timer);
        this.#nodeLost(link.peer.name, graced.reason);
      }
      if (!this.#graced.has(link.peer.name)) this.#incarnations.set(link.peer.name, link.peer.incarnation);
      this.#reliable.linkUp(link.peer.name, link.peer.incarnation);
      // A node behind on switches (it joined late, or missed a commit) adopts the newer overlay.
      if (this.#topo.epoch > 0) this.#sendTo(link.peer.name, [Kind.Switch, { op: 'epoch', ask: false, ...this.#topo }]);
    });
    this.runtime.setRouter(this.#router());
    this.#global = new GlobalRegistry({
      runtime: this.runtime,
      clock: this.#clock,
      logger: this.logger.child({ component: 'global' }),
      nodes: () => this.nodes(),
      sendRegistry: (node, m) => {
        this.#sendTo(node, [Kind.Registry, m]);
      },
    });
    this.#bindOverlay(this.#overlay);
    this.#switcher = new TopologySwitcher(
      {
        name: this.name,
        now: () => this.#clock.now(),
        setTimer: (ms, fn) => this.#clock.setTimer(ms, fn),
        clearTimer: (t) => {
          this.#clock.clearTimer(t as ReturnType<Clock['setTimer']>);
        },
        sample: (items, count) => this.random.sample(items, count),
        nodes: () => this.nodes(),
        isUp: (node) => this.#overlay.isUp(node),
        current: () => ({ ...this.#topo, servers: [...this.#topo.servers] }),
        send: (node, m) => {
          this.#sendTo(node, [Kind.Switch, m]);
        },
        sendOver: (which, node, m) => {
          if (this.#stopped || this.#blocked.has(node)) return;
          const overlay = which === 'new' ? (this.#pending?.overlay ?? this.#overlay) : this.#overlay;
          void overlay.forward(node, DEFAULT_CHANNEL, this.#codec.encode([Kind.Switch, m])).catch(() => undefined);
        },
        neighbors: (which) => (which === 'new' ? (this.#pending?.overlay ?? this.#overlay) : this.#overlay).neighbors(),
        prepare: (to, participants) => this.#prepareOverlay(to, participants),
        join: (participants, timeoutMs) => this.#joinOverlay(participants, timeoutMs),
        commit: (epoch, switchId, excused) => {
          this.#commitOverlay(epoch, switchId, excused);
        },
        abort: () => this.#abortOverlay(),
        epoch: (from, info) => {
          void this.#adoptTopology(from, info);
        },
      },
      options.topology ?? {},
    );
    this.pg = new ProcessGroups({
      runtime: this.runtime,
      nodes: () => this.nodes(),
      sendGroups: (node, m) => {
        this.#sendTo(node, [Kind.Groups, m]);
      },
    });
    registerSlotBehaviour(this);
  }

  /** The overlay the node runs now (it changes with `switchTopology`). */
  get overlay(): PeerService {
    return this.#overlay;
  }

  /** The current overlay by its topology name. */
  get topology(): TopologyName {
    return this.#topo.topology;
  }

  /** The current overlay's topology, protocol tags, client-server servers and epoch (committed switches). */
  topologyEpoch(): TopologyEpoch {
    return { ...this.#topo, servers: [...this.#topo.servers] };
  }

  /** Routes `overlay`'s traffic and events to this node (events only while it is the node's overlay). */
  #bindOverlay(overlay: PeerService): void {
    for (const channel of this.transport.channels.keys()) {
      if (channel === 'control') continue;
      overlay.onMessage(channel, (from, payload) => {
        this.receiveFrame(from, payload);
      });
    }
    overlay.on('up', (node) => {
      if (overlay !== this.#overlay) return;
      const incarnation = this.transport.link(node)?.peer.incarnation;
      const graced = this.#graced.get(node);
      if (graced !== undefined) {
        this.#graced.delete(node);
        this.#clock.clearTimer(graced.timer);
        // Back within the grace, the same start of that node (or one we never knew the start of:
        // reached through the overlay, not a link of ours): it was never lost.
        if (incarnation === graced.incarnation || graced.incarnation === undefined || incarnation === undefined) {
          this.logger.info(`link to ${node} back within the reconnect grace: not a node loss`);
          return;
        }
        this.#nodeLost(node, graced.reason);
      }
      if (incarnation !== undefined) this.#incarnations.set(node, incarnation);
      this.#seen.set(node, { lostAt: null, why: null });
      this.#leaving.delete(node);
      this.#global.nodeUp(node);
      this.pg.nodeUp(node);
      this.#emit({ type: 'nodeup', node });
    });
    overlay.on('down', (node, reason) => {
      if (overlay !== this.#overlay) return;
      // A link that drops may come back at once (a brief cut): with a reconnect grace, wait for it.
      // (A second down during the grace changes nothing: its timer decides.)
      if (this.#graced.has(node) && reason.kind !== 'left') return;
      if (this.#reconnectGraceMs > 0 && reason.kind !== 'left' && !this.#stopped) {
        const timer = this.#clock.setTimer(this.#reconnectGraceMs, () => {
          if (this.#graced.get(node)?.timer !== timer) return;
          this.#graced.delete(node);
          this.#nodeLost(node, reason.kind);
        });
        this.#graced.set(node, { timer, incarnation: this.#incarnations.get(node), reason: reason.kind });
        return;
      }
      this.#nodeLost(node, reason.kind);
    });
  }

  /** Broadcast modes follow the topology (Plumtree under HyParView and pub/sub) unless configured. */
  #makePlumtree(overlay: PeerService): Plumtree {
    const viaPlumtree = this.#topo.topology === 'hyparview' || this.#topo.topology === 'pubSub';
    this.#plumtreeBroadcast.clear();
    for (const channel of this.transport.channels.keys()) {
      if (channel !== 'control' && (this.#broadcastModes.get(channel) ?? (viaPlumtree ? 'plumtree' : 'direct')) === 'plumtree') this.#plumtreeBroadcast.add(channel);
    }
    const tuning = this.#topo.topology === 'pubSub' ? PUBSUB_PLUMTREE : {};
    const plumtree = new Plumtree(tuning, { transport: this.transport, peerService: overlay, clock: this.#clock, random: this.random.fork(), logger: this.logger.child({ component: 'plumtree' }) });
    for (const channel of this.transport.channels.keys()) {
      if (channel === 'control' || !this.#plumtreeBroadcast.has(channel)) continue;
      // Plumtree's own frames travel on the control channel, beside the overlay's (a channel
      // has one receiver, and this node's is the direct-send path): broadcasts over Plumtree
      // keep their order and reach, not their channel's sockets.
      plumtree.register(
        new MessageLog<Buffer>({
          name: `fdn.broadcast.${channel}`,
          node: this.name,
          deliver: (payload, info) => {
            if (info.root !== this.name) this.receiveFrame(info.root, payload);
          },
        }),
      );
    }
    return plumtree;
  }

  // ==== Switching the overlay ====

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

  /** Brings the new overlay up beside the current one (listening on the other tags, not joining yet). */
  async #prepareOverlay(to: TopologyName, participants: string[]): Promise<{ ok: boolean; why?: string }> {
    if (this.#pending !== null) await this.#abortOverlay();
    const tags = this.#topo.tags === 'primary' ? 'alternate' : 'primary';
    const servers = this.#serversOf(participants);
    const overlay = makeOverlay({ ...this.#overlayConfig(to, this.#specsOf(participants), servers), protocolTags: tags }, this.#seedsFor(to), this.#overlayComponents);
    this.#pending = { overlay, topology: to, tags, servers };
    this.#overlay.setHandover(true);
    overlay.setHandover(true);
    this.#bindOverlay(overlay);
    await overlay.start();
    return { ok: true };
  }

  /** HyParView uses its seeds beyond the first join (an isolated node rejoins, islands merge); the others join as the switch tells them. */
  #seedsFor(to: TopologyName): (string | PeerSpec)[] {
    return to === 'hyparview' || to === 'pubSub' ? this.#seeds : [];
  }

  #overlayConfig(to: TopologyName, specs: PeerSpec[], servers: string[]): Exclude<OverlayConfig, string> {
    switch (to) {
      case 'fullMesh':
        return { kind: 'fullMesh' };
      case 'static':
        return { kind: 'static', members: specs };
      case 'clientServer':
        return { kind: 'clientServer', role: servers.includes(this.name) ? 'server' : 'client' };
      case 'hyparview':
      case 'pubSub':
        return { kind: to };
    }
  }

  /**
   * Joins the new overlay through the others (a server for client-server) and waits until it
   * reaches every participant still up on the current overlay (one that went down is not waited for).
   */
  async #joinOverlay(participants: string[], timeoutMs: number): Promise<{ ok: boolean; why?: string }> {
    const pending = this.#pending;
    if (pending === null) return { ok: false, why: `${this.name} has no new overlay to join` };
    const overlay = pending.overlay;
    const live = (p: string): boolean => p === this.name || this.#overlay.isUp(p);
    const contacts = this.#specsOf(participants).filter((s) => s.name !== this.name && live(s.name) && (overlay.kind !== 'clientServer' || pending.servers.includes(s.name)));
    // HyParView: through the first live participant (one root: no islands); while this node has
    // no neighbour in it (its join was lost in the crowd), again through the next ones.
    let entry = contacts;
    const joinSome = async (): Promise<void> => {
      for (const contact of entry) {
        if (overlay.kind === 'static') break;
        try {
          await overlay.join(contact);
          if (overlay.kind !== 'fullMesh') break;
        } catch {
          // Try the next.
        }
      }
    };
    await joinSome();
    let lastJoin = this.#clock.now();
    const deadline = this.#clock.now() + timeoutMs;
    for (;;) {
      if (this.#pending !== pending) return { ok: false, why: 'aborted' };
      // Every live participant a member the new overlay can reach (not only listed: a client-server
      // client must have linked to the servers).
      const lacking = participants.filter((p) => p !== this.name && live(p) && !overlay.isUp(p));
      if (lacking.length === 0) return { ok: true };
      if (overlay.kind === 'hyparview' && overlay.neighbors().length === 0 && this.#clock.now() - lastJoin >= 1_000) {
        entry = [...entry.slice(1), ...entry.slice(0, 1)];
        await joinSome();
        lastJoin = this.#clock.now();
        continue;
      }
      if (this.#clock.now() >= deadline) {
        return { ok: false, why: `${this.name}'s new ${overlay.kind} overlay does not reach ${lacking.slice(0, 10).join(', ')}${lacking.length > 10 ? ` and ${String(lacking.length - 10)} more` : ''} after ${String(timeoutMs)} ms` };
      }
      // Checked again every 50 ms, and near the end also as soon as the new overlay reports a
      // member up (not earlier: a check costs O(n), a thousand members come up one by one).
      const nearlyDone = lacking.length <= 8;
      await new Promise<void>((resolve) => {
        const clock = this.#clock;
        const done = (): void => {
          off?.();
          clock.clearTimer(timer);
          resolve();
        };
        const timer = clock.setTimer(50, done);
        const off = nearlyDone ? overlay.on('up', done) : null;
      });
    }
  }

  /** How to reach each participant: as the current overlay knows it, or from its link. */
  #specsOf(participants: string[]): PeerSpec[] {
    return participants.map((p) => this.#specOf(p)).filter((s): s is PeerSpec => s !== undefined);
  }

  #specOf(node: string): PeerSpec | undefined {
    if (node === this.name) return { name: node, addresses: [...this.addresses] };
    const addresses = this.#overlay.spec(node)?.addresses ?? this.transport.link(node)?.peer.addresses ?? [];
    return addresses.length === 0 ? undefined : { name: node, addresses: [...addresses] };
  }

  #serversOf(participants: string[]): string[] {
    return this.#servers ?? participants.slice(0, Math.max(1, Math.ceil(Math.sqrt(participants.length))));
  }

  #commitOverlay(epoch: number, switchId: string, excused: string[]): void {
    const next = this.#pending;
    if (next === null) return;
    this.#pending = null;
    this.#install(next.overlay, { epoch, switchId, topology: next.topology, tags: next.tags, servers: next.servers });
    next.overlay.setHandover(false);
    // Participants lost during the switch may still be listed by the new overlay.
    for (const node of excused) next.overlay.suspect(node);
    this.#tellEpoch();
  }

  /** Tells every linked node this node's epoch: those not part of the switch (they joined meanwhile, or were on the other side of a partition) follow. */
  #tellEpoch(): void {
    for (const link of this.transport.links()) this.#sendTo(link.peer.name, [Kind.Switch, { op: 'epoch', ask: false, ...this.#topo }]);
  }

  /** Makes `overlay` the node's (the old one detached: its links stay for the new one). */
  #install(overlay: PeerService, topo: TopologyEpoch): void {
    const old = this.#overlay;
    this.#overlay = overlay;
    this.#topo = topo;
    this.#plumtree.stop();
    this.#plumtree = this.#makePlumtree(overlay);
    void old.detach();
  }

  async #abortOverlay(): Promise<void> {
    const pending = this.#pending;
    this.#pending = null;
    await pending?.overlay.detach();
    this.#overlay.setHandover(false);
  }

  /**
   * `from` runs a newer overlay (more committed switches): this node, which missed that switch,
   * brings the same overlay up on the same tags, joins it through `from` and drops its own.
   */
  async #adoptTopology(from: string, info: TopologyEpoch): Promise<void> {
    if (this.#stopped || !newerEpoch(info, this.#topo)) return;
    const topo: TopologyEpoch = { epoch: info.epoch, switchId: info.switchId, topology: info.topology, tags: info.tags, servers: info.servers };
    if (topo.topology === this.#topo.topology && topo.tags === this.#topo.tags) {
      this.#topo = topo;
      return;
    }
    this.logger.info(`adopting ${topo.topology} (epoch ${String(topo.epoch)}) from ${from}: this node missed that switch`);
    const from0 = this.#topo.topology;
    if (this.#pending !== null) await this.#abortOverlay();
    const contact = this.#specOf(from);
    const overlay = makeOverlay({ ...this.#overlayConfig(topo.topology, [...this.#specsOf([this.name]), ...(contact === undefined ? [] : [contact])], topo.servers), protocolTags: topo.tags }, this.#seedsFor(topo.topology), this.#overlayComponents);
    this.#bindOverlay(overlay);
    this.#install(overlay, topo);
    this.#switcher.record({ time: this.#clock.now(), from: from0, to: topo.topology, reason: `adopted from ${from} (epoch ${String(topo.epoch)})`, ms: 0 });
    // The news spreads link by link (after a partition heals, a whole half adopts this way).
    this.#tellEpoch();
    await overlay.start();
    if (overlay.kind === 'static' || this.#overlay !== overlay) return;
    // A client of a client-server overlay joins through a server.
    const contacts = [from, ...topo.servers].filter((n, i, all) => n !== this.name && all.indexOf(n) === i && (topo.topology !== 'clientServer' || topo.servers.includes(this.name) || topo.servers.includes(n)));
    for (const name of contacts) {
      const spec = this.#specOf(name);
      if (spec === undefined) continue;
      try {
        await overlay.join(spec);
        return;
      } catch (err) {
        this.logger.debug(`joining the adopted ${topo.topology} overlay through ${name} failed`, { reason: err });
      }
    }
    this.logger.warn(`could not join the adopted ${topo.topology} overlay: no contact answered`);
  }

  /** @internal Use {@link startNode}. */
  async start(): Promise<void> {
    await this.overlay.start();
    if (this.#options.handleSignals === true) this.#handleSignals();
    if (this.#loadReportMs > 0) {
      this.#loadDelay.enable();
      this.#scheduleLoadReport();
    }
  }

  /** This node's load now (what it reports to the others). */
  load(): NodeLoad {
    const pids = this.runtime.processes();
    let mailboxes = 0;
    // Bounded: a node with a million processes samples the first ten thousand.
    for (let i = 0; i < pids.length && i < 10_000; i++) mailboxes += this.runtime.processInfo(pids[i] as Pid)?.messageQueueLen ?? 0;
    return { processes: pids.length, loopDelayMs: this.#loadDelay.percentile(99) / 1e6, mailboxes, at: this.#clock.now() };
  }

  /** The last load `node` reported (this node's own, now), if any. */
  loadOf(node: string): NodeLoad | undefined {
    return node === this.name ? this.load() : this.#loads.get(node);
  }

  #scheduleLoadReport(): void {
    this.#loadTimer = this.#clock.setTimer(this.#loadReportMs, () => {
      this.#loadTimer = null;
      if (this.#stopped) return;
      const load = this.load();
      this.#loadDelay.reset();
      for (const node of this.nodes()) this.#sendTo(node, [Kind.Load, load]);
      this.#scheduleLoadReport();
    });
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
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        off();
        this.#clock.clearTimer(timer);
      };
      const off = this.onNodeEvent((e) => {
        if (e.type !== 'nodeup') return;
        done();
        resolve();
      });
      const timer = this.#clock.setTimer(timeoutMs, () => {
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
    return this.overlay.members().filter((n) => n !== this.name && this.overlay.isUp(n));
  }

  /** True while `node` (another node, or this one) is stopping in order: nothing new should be placed on it. */
  isLeaving(node: string): boolean {
    return node === this.name ? this.#stopping !== null : this.#leaving.has(node);
  }

  /** @internal Where this node keeps failover checkpoints (its own configuration; created on first use). */
  get checkpointStore(): CheckpointStore {
    return (this.#checkpointStore ??= new FileStore(this.#options.checkpointDir ?? join(tmpdir(), 'fdn-ecosystems')));
  }

  /** Where other nodes reach this one. */
  get addresses(): readonly string[] {
    return this.transport.self.addresses;
  }

  /**
   * Sends `{ type: 'nodeup', node }` and `{ type: 'nodedown', node, reason }` to `pid` (a local
   * process, Erlang's `net_kernel:monitor_nodes`) until it exits or `monitorNodes(pid, false)`.
   */
  monitorNodes(pid: Pid, on = true): void {
    if (!on) {
      this.#nodeWatchers.delete(pid);
      return;
    }
    if (!this.runtime.isAlive(pid) || pid.node !== this.name) throw new DistributionError(DistributionErrorCode.BAD_ARGUMENT, `monitorNodes needs a live process of ${this.name}; ${pid.toString()} is ${pid.node === this.name ? 'not alive' : `on ${pid.node}`}`);
    this.#nodeWatchers.add(pid);
  }

  /** Calls `listener` on every nodeup/nodedown; returns the unsubscribe function. */
  onNodeEvent(listener: (event: NodeEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Sends `msg` to a pid, a local name, or `{ name, node }`, on a chosen channel. Throws
   * FDN_ERR_ENCODE_FAILED when `msg` cannot cross nodes (a function, a symbol).
   */
  send(dest: Dest, msg: unknown, options: NodeSendOptions = {}): NodeSendStatus {
    const channel = options.channel ?? this.#routes.route(msg);
    const reliable = options.reliability === 'at_least_once';
    if (isGlobalName(dest)) {
      const pid = this.#global.whereis(dest.global);
      if (pid === undefined) throw new DistributionError(DistributionErrorCode.NOT_REGISTERED, `no process is registered globally as '${dest.global}'; check whereisGlobal() first or send to a pid`);
      return this.send(pid, msg, options);
    }
    if (dest instanceof Pid && dest.node !== this.name) return this.#sendTo(dest.node, [Kind.Send, dest, msg], channel, options.partitionKey, reliable);
    if (typeof dest === 'object' && !(dest instanceof Pid) && dest.node !== this.name) return this.#sendTo(dest.node, [Kind.SendNamed, dest.name, msg], channel, options.partitionKey, reliable);
    this.runtime.send(dest, msg);
    return 'local';
  }

  /** `send` on a named channel (the channels document's `send_message(channel, dest, msg, opts)`). */
  sendMessage(channel: string, dest: Dest, msg: unknown, options: Omit<NodeSendOptions, 'channel'> = {}): NodeSendStatus {
    if (!this.transport.channels.has(channel) || channel === 'control') throw this.#unknownChannel(channel);
    return this.send(dest, msg, { ...options, channel });
  }

  /**
   * Sends `msg` to the process registered as `name` on every node, this one included (OTP's
   * `abcast`), on `channel`: a send to each connected node, or one Plumtree broadcast over the
   * overlay, as the channel is configured. Nodes without such a process drop it.
   */
  broadcast(name: string, msg: unknown, options: { channel?: string } = {}): void {
    const channel = options.channel ?? this.#routes.route(msg) ?? DEFAULT_CHANNEL;
    if (!this.transport.channels.has(channel) || channel === 'control') throw this.#unknownChannel(channel);
    const message: Message = [Kind.SendNamed, name, msg];
    if (this.#plumtreeBroadcast.has(channel)) {
      this.#plumtree.broadcast(`fdn.broadcast.${channel}`, this.#codec.encode(message));
    } else {
      for (const node of this.nodes()) this.#sendTo(node, message, channel);
    }
    this.runtime.deliverRemote(name, msg);
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
    if (channel === 'all') {
      const all: Record<string, NodeChannelMetrics> = {};
      for (const c of this.transport.channels.keys()) all[c] = this.getChannelMetrics(c);
      return all;
    }
    if (!this.transport.channels.has(channel)) throw this.#unknownChannel(channel);
    const sum: NodeChannelMetrics = { channel, messagesOut: 0, bytesOut: 0, messagesIn: 0, bytesIn: 0, queuedMessages: 0, queuedBytes: 0, dropped: 0, unacknowledged: this.#reliable.unacked(undefined, channel), ...this.#reliable.counters(channel), links: 0 };
    for (const link of this.transport.links()) {
      const m = link.metrics(channel);
      sum.messagesOut += m.messagesOut;
      sum.bytesOut += m.bytesOut;
      sum.messagesIn += m.messagesIn;
      sum.bytesIn += m.bytesIn;
      sum.queuedMessages += m.queuedMessages;
      sum.queuedBytes += m.queuedBytes;
      sum.dropped += m.dropped;
      sum.links++;
    }
    return sum;
  }

  /**
   * Resolves when `node`'s link can take more on `channel` (after a send answered
   * `backpressure` or `full`): the way for a fast producer to keep memory bounded.
   */
  async whenWritable(node: string, channel = DEFAULT_CHANNEL): Promise<void> {
    await this.transport.link(node)?.whenWritable(channel);
  }

  /**
   * Spawns the behaviour registered as `behaviour` in `node`'s process factory, with `args`
   * (data, encoded like messages), under that node's supervisor. With `link` or `monitor`, `ctx`'s
   * process is linked to or monitors the new process from its first instant. Rejects with
   * FDN_ERR_UNKNOWN_BEHAVIOUR, FDN_ERR_SPAWN_FAILED, FDN_ERR_NOCONNECTION or FDN_ERR_SPAWN_TIMEOUT.
   */
  spawn(ctx: ProcessContext | null, node: string, behaviour: string, args: unknown[] = [], options: RemoteSpawnOptions = {}): Promise<{ pid: Pid; ref: Ref | null }> {
    return this.#spawnOn(ctx, node, behaviour, args, options, false);
  }

  /**
   * @internal Spawns one of the node's own behaviours (ecosystem slots and candidates) on `node`:
   * they are not in the user's factory, so a peer cannot reach them through `spawn`, and they
   * take only data that they check (no path, module or command).
   */
  spawnSystem(ctx: ProcessContext | null, node: string, behaviour: string, args: unknown[] = [], options: RemoteSpawnOptions = {}): Promise<{ pid: Pid; ref: Ref | null }> {
    return this.#spawnOn(ctx, node, behaviour, args, options, true);
  }

  async #spawnOn(ctx: ProcessContext | null, node: string, behaviour: string, args: unknown[], options: RemoteSpawnOptions, system: boolean): Promise<{ pid: Pid; ref: Ref | null }> {
    if ((options.link === true || options.monitor === true) && ctx === null) throw new DistributionError(DistributionErrorCode.BAD_ARGUMENT, 'spawn with link or monitor needs the calling process: pass its ctx (or spawn from runtime.run)');
    if (node === this.name) {
      const pid = await this.#startSpawned(this.name, behaviour, args, system);
      if (options.link === true) ctx?.link(pid);
      return { pid, ref: options.monitor === true && ctx !== null ? ctx.monitor(pid) : null };
    }
    if (!this.overlay.isUp(node)) throw new DistributionError(DistributionErrorCode.NOCONNECTION, `cannot spawn '${behaviour}' on ${node}: ${this.#explainNoconnection(node)}`);
    const requester = ctx?.self ?? null;
    const ref = options.monitor === true ? this.runtime.makeRef() : null;
    const id = this.#nextSpawn++;
    const pid = await new Promise<Pid>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.#spawnTimeoutMs;
      const timer = this.#clock.setTimer(timeoutMs, () => {
        this.#spawns.delete(id);
        reject(new DistributionError(DistributionErrorCode.SPAWN_TIMEOUT, `spawn of '${behaviour}' on ${node}: no answer within ${String(timeoutMs)} ms`));
      });
      this.#spawns.set(id, { node, resolve, reject, timer });
      this.#sendTo(node, [Kind.SpawnRequest, id, behaviour, args, requester, options.link === true, ref, system]);
    });
    // The target linked/monitored on its side before the process ran; record ours to match.
    if (ctx !== null && options.link === true) this.#adoptRemoteLink(ctx, pid);
    if (ctx !== null && ref !== null) this.#adoptRemoteMonitor(ctx, pid, ref);
    return { pid, ref };
  }

  /** Starts a spawned behaviour here, within the limits: from the user's factory, or the node's own. */
  async #startSpawned(from: string, behaviour: string, args: unknown[], system: boolean): Promise<Pid> {
    if (!system) this.#limits.admit(from, behaviour, this.runtime.processCount);
    const pid = await (system ? this.systemFactory : this.factory).start(behaviour, args);
    if (!system) this.#limits.started(behaviour, pid, this.runtime);
    return pid;
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

  /**
   * Fault injection for tests and drills: drops every distribution message to and from `nodes`
   * (links stay up, heartbeats flow): a partition as processes see it, without touching the
   * network. `direction: 'out'` drops only what this node sends them, `'in'` only what they send
   * (an asymmetric partition). `unblockNodes()` heals it.
   */
  blockNodes(nodes: readonly string[], options: { direction?: 'both' | 'in' | 'out' } = {}): void {
    const direction = options.direction ?? 'both';
    for (const n of nodes) {
      if (direction !== 'in') this.#blocked.add(n);
      if (direction !== 'out') this.#blockedFrom.add(n);
    }
  }

  unblockNodes(): void {
    this.#blocked.clear();
    this.#blockedFrom.clear();
  }

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
    for (const node of this.nodes()) this.#sendTo(node, [Kind.Leaving]);
    for (const [id, s] of this.#spawns) {
      this.#clock.clearTimer(s.timer);
      s.reject(new DistributionError(DistributionErrorCode.STOPPED, `${this.name} was stopped while the spawn on ${s.node} waited for its answer`));
      this.#spawns.delete(id);
    }
    if (this.#loadTimer !== null) this.#clock.clearTimer(this.#loadTimer);
    for (const { timer } of this.#graced.values()) this.#clock.clearTimer(timer);
    this.#graced.clear();
    this.#loadDelay.disable();
    await this.runtime.stop({ timeoutMs });
    // What the stopping processes sent (a channel's first message may still wait for its socket) leaves before the links close.
    await this.#drainLinks(2_000);
    this.#stopped = true;
    this.#plumtree.stop();
    await this.#pending?.overlay.detach();
    // Leave gracefully, but never wait long on a peer that does not read.
    let giveUp = (): void => undefined;
    const bound = this.#clock.setTimer(2_000, () => {
      giveUp();
    });
    await Promise.race([
      this.overlay.leave().catch((err: unknown) => {
        this.logger.debug('leaving the cluster failed', { reason: err });
      }),
      new Promise<void>((resolve) => {
        giveUp = resolve;
      }),
    ]);
    this.#clock.clearTimer(bound);
    await this.overlay.stop();
  }

  /** Waits until no link queues anything on any channel, at most `maxMs`. */
  async #drainLinks(maxMs: number): Promise<void> {
    const deadline = this.#clock.now() + maxMs;
    const queued = (): number => {
      let n = 0;
      for (const link of this.transport.links()) for (const channel of this.transport.channels.keys()) n += link.metrics(channel).queuedMessages;
      for (const state of this.#remote.values()) n += state.pending?.length ?? 0;
      return n;
    };
    while (queued() > 0 && this.#clock.now() < deadline) {
      await new Promise<void>((resolve) => this.#clock.setTimer(10, resolve));
    }
  }

  /** SIGTERM and SIGINT stop the node in order, then exit with 0 (a second signal exits at once with 1). */
  #handleSignals(): void {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (this.#stopping !== null) {
        this.logger.warn(`${signal} again while stopping: exiting now`);
        process.exit(1);
      }
      this.logger.info(`${signal}: stopping ${this.name} in order`);
      this.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          this.logger.error(`stopping ${this.name} failed`, { reason: err });
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    this.#removeSignalHandlers = () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      this.#removeSignalHandlers = null;
    };
  }

  // ==== Outbound ====

  #router(): RemoteRouter {
    return {
      send: (_from, to, msg) => {
        this.#sendTo(to.node, [Kind.Send, to, msg], this.#routes.route(msg));
      },
      sendNamed: (_from, to: RemoteName, msg) => {
        this.#sendTo(to.node, [Kind.SendNamed, to.name, msg], this.#routes.route(msg));
      },
      link: (from, to) => {
        if (!this.overlay.isUp(to.node)) {
          queueMicrotask(() => {
            this.runtime.remoteLinkExit(to, from, 'noconnection');
          });
          return;
        }
        this.#state(to.node).links.set(pairKey(from, to), { local: from, remote: to });
        this.#sendTo(to.node, [Kind.Link, from, to]);
      },
      unlink: (from, to) => {
        this.#remote.get(to.node)?.links.delete(pairKey(from, to));
        this.#sendTo(to.node, [Kind.Unlink, from, to]);
      },
      linkExit: (from, to, reason) => {
        this.#remote.get(to.node)?.links.delete(pairKey(from, to));
        this.#sendTo(to.node, [Kind.LinkExit, from, to, reason]);
      },
      exit: (from, to, reason) => {
        this.#sendTo(to.node, [Kind.Exit, from, to, reason]);
      },
      monitor: (watcher, target, ref) => {
        if (!this.overlay.isUp(target.node)) {
          queueMicrotask(() => {
            this.runtime.remoteDown(watcher, ref, target, 'noconnection');
          });
          return;
        }
        this.#state(target.node).watching.set(ref.toString(), { watcher, target, ref });
        this.#sendTo(target.node, [Kind.Monitor, watcher, target, ref]);
      },
      monitorName: (watcher, target, ref) => {
        const unresolved = new Pid(target.node, 0, 0);
        if (!this.overlay.isUp(target.node)) {
          queueMicrotask(() => {
            this.runtime.remoteDown(watcher, ref, unresolved, 'noconnection');
          });
          return;
        }
        this.#state(target.node).watching.set(ref.toString(), { watcher, target: unresolved, ref });
        this.#sendTo(target.node, [Kind.MonitorName, watcher, target.name, ref]);
      },
      demonitor: (watcher, target, ref) => {
        this.#remote.get(target.node)?.watching.delete(ref.toString());
        this.#sendTo(target.node, [Kind.Demonitor, watcher, target, ref]);
      },
      down: (watcher, ref, target, reason) => {
        this.#remote.get(watcher.node)?.watchedBy.delete(ref.toString());
        this.#sendTo(watcher.node, [Kind.Down, watcher, ref, target, reason]);
      },
      resolveName: () => undefined,
      resolveGlobal: (name) => this.#global.whereis(name),
      explainNoconnection: (node) => this.#explainNoconnection(node),
    };
  }

  /** Encodes (throwing in the sender if it cannot) and sends in order; opens a link if needed. */
  #sendTo(node: string, message: Message, channel = DEFAULT_CHANNEL, partitionKey?: number, reliable = false): NodeSendStatus {
    const bytes = this.#codec.encode(message);
    if (this.#stopped || this.#blocked.has(node)) return 'dropped';
    // A message to a name belongs to whoever holds the name: it survives a restart of that node.
    if (reliable || this.#atLeastOnce.has(channel)) return this.#reliable.send(node, channel, bytes, message[0] === Kind.SendNamed);
    const options: SendOptions | undefined = partitionKey === undefined ? undefined : { partitionKey };
    const state = this.#remote.get(node);
    const link = this.transport.link(node);
    if (link !== undefined && (state?.pending ?? null) === null) {
      const status = link.send(channel, bytes, options);
      if (status === 'full' || status === 'dropped') this.logger.debug(`a message to ${node} on '${channel}' was ${status === 'full' ? 'refused (queue full)' : 'dropped'}`);
      return status;
    }
    this.#sendLater(node, channel, bytes, options);
    return 'queued';
  }

  /** A frame of an at-least-once channel, on the link if there is one (else it waits for the next link). */
  #transmitReliable(node: string, channel: string, frame: ReliableFrame): boolean {
    if (this.#stopped) return false;
    const link = this.transport.link(node);
    const bytes = this.#codec.encode([Kind.Reliable, frame]);
    // A link is up: straight onto it (numbered frames need no queue's order: the receiver takes
    // them in sequence and the unacknowledged come again). No link: the overlay opens one (or
    // relays); the frame stays unacknowledged meanwhile.
    if (link?.up !== true) {
      this.#sendLater(node, channel, bytes, undefined);
      return false;
    }
    const status = link.send(channel, bytes);
    return status === 'sent' || status === 'backpressure';
  }


  /** Messages of at-least-once channels not yet acknowledged (to `node`, or to anyone). */
  unacknowledged(node?: string): number {
    return this.#reliable.unacked(node);
  }

  /** No link yet: queue behind the messages already waiting, and open one through the overlay. */
  #sendLater(node: string, channel: string, bytes: Buffer, options: SendOptions | undefined): void {
    const state = this.#state(node);
    if (state.pending !== null) {
      state.pending.push({ channel, bytes, options });
      return;
    }
    state.pending = [];
    void this.overlay.forward(node, channel, bytes, options).then(
      (status) => {
        this.#flushPending(node, status !== 'unknown' && status !== 'dropped');
      },
      () => {
        this.#flushPending(node, false);
      },
    );
  }

  #flushPending(node: string, linked: boolean): void {
    const state = this.#remote.get(node);
    if (state === undefined || state.pending === null) return;
    const pending = state.pending;
    state.pending = null;
    const link: Link | undefined = linked ? this.transport.link(node) : undefined;
    if (link !== undefined) {
      for (const p of pending) link.send(p.channel, p.bytes, p.options);
      return;
    }
    // Reached without a link of our own (a client-server client relays through a server): the
    // rest go the same way, in order.
    if (linked) {
      for (const p of pending) void this.overlay.forward(node, p.channel, p.bytes, p.options).catch(() => undefined);
      return;
    }
    if (pending.length > 0) this.logger.debug(`dropped ${String(pending.length)} messages to ${node}: no link`);
  }

  // ==== Inbound ====

  /**
   * @internal Handles a frame from `from` (public so fuzz tests can feed frames without a socket
   * each). A frame this node cannot use (undecodable, not a protocol message, malformed) fails
   * alone: it is dropped and logged with FDN_ERR_DECODE_FAILED, and the link and every other
   * message on it carry on.
   */
  receiveFrame(from: string, payload: Buffer): void {
    if (this.#blockedFrom.has(from)) return;
    let message: Message;
    try {
      message = this.#codec.decode(payload) as Message;
    } catch (err) {
      this.#undecodable(from, 'a message that cannot be decoded', err);
      return;
    }
    if (!Array.isArray(message) || typeof message[0] !== 'number') {
      this.#undecodable(from, 'a frame that is not a protocol message', null);
      return;
    }
    try {
      this.#dispatch(from, message);
    } catch (err) {
      this.#undecodable(from, 'a malformed protocol message', err);
    }
  }

  /** Frames dropped because they could not be decoded or understood, since the node started. */
  get framesDropped(): number {
    return this.#framesDropped;
  }

  /** One line per peer at most every 10 s (with how many were dropped since): a broken peer must not flood the log. */
  #undecodable(from: string, what: string, err: unknown): void {
    this.#framesDropped++;
    const now = this.#clock.now();
    const last = this.#dropLog.get(from);
    if (last !== undefined && now - last.at < 10_000) {
      last.count++;
      return;
    }
    const since = last === undefined ? '' : ` (${String(last.count)} more since the last report)`;
    this.#dropLog.set(from, { at: now, count: 0 });
    this.logger.error(`${from} sent ${what}: dropped that message${since}. Are both nodes the same @fdn version?`, { code: DistributionErrorCode.DECODE_FAILED, peer: from, reason: err });
  }

  #dispatch(from: string, m: Message): void {
    const rt = this.runtime;
    switch (m[0]) {
      case Kind.Send:
        if (m[1] instanceof Pid) rt.deliverRemote(m[1], m[2]);
        return;
      case Kind.SendNamed:
        if (typeof m[1] === 'string') rt.deliverRemote(m[1], m[2]);
        return;
      case Kind.Link: {
        const [, remote, local] = m;
        if (!isPidFrom(remote, from) || !(local instanceof Pid)) return;
        if (this.#signalsFrom(from) >= MAX_SIGNALS_PER_PEER) this.#sendTo(from, [Kind.LinkExit, local, remote, 'system_limit']);
        else if (rt.remoteLink(remote, local)) this.#state(from).links.set(pairKey(local, remote), { local, remote });
        else this.#sendTo(from, [Kind.LinkExit, local, remote, 'noproc']);
        return;
      }
      case Kind.Unlink: {
        const [, remote, local] = m;
        if (!isPidFrom(remote, from) || !(local instanceof Pid)) return;
        this.#remote.get(from)?.links.delete(pairKey(local, remote));
        rt.remoteUnlink(remote, local);
        return;
      }
      case Kind.LinkExit: {
        const [, remote, local, reason] = m;
        if (!isPidFrom(remote, from) || !(local instanceof Pid)) return;
        this.#remote.get(from)?.links.delete(pairKey(local, remote));
        rt.remoteLinkExit(remote, local, reason);
        return;
      }
      case Kind.Exit: {
        const [, remote, local, reason] = m;
        if (isPidFrom(remote, from) && local instanceof Pid) rt.remoteExit(remote, local, reason);
        return;
      }
      case Kind.Monitor: {
        const [, watcher, target, ref] = m;
        if (!isPidFrom(watcher, from) || !(target instanceof Pid) || !(ref instanceof Ref)) return;
        if (this.#signalsFrom(from) >= MAX_SIGNALS_PER_PEER) this.#sendTo(from, [Kind.Down, watcher, ref, target, 'system_limit']);
        else if (rt.remoteMonitor(watcher, target, ref)) this.#state(from).watchedBy.set(ref.toString(), { target, ref });
        else this.#sendTo(from, [Kind.Down, watcher, ref, target, 'noproc']);
        return;
      }
      case Kind.Demonitor: {
        const [, watcher, target, ref] = m;
        if (!isPidFrom(watcher, from) || !(target instanceof Pid) || !(ref instanceof Ref)) return;
        this.#remote.get(from)?.watchedBy.delete(ref.toString());
        rt.remoteDemonitor(target, ref);
        return;
      }
      case Kind.Down: {
        const [, watcher, ref, target, reason] = m;
        if (!(watcher instanceof Pid) || !(ref instanceof Ref) || !isPidFrom(target, from)) return;
        this.#remote.get(from)?.watching.delete(ref.toString());
        rt.remoteDown(watcher, ref, target, reason);
        return;
      }
      case Kind.SpawnRequest:
        void this.#onSpawnRequest(from, m);
        return;
      case Kind.MonitorName: {
        const [, watcher, name, ref] = m;
        if (!isPidFrom(watcher, from) || typeof name !== 'string' || !(ref instanceof Ref)) return;
        const pid = rt.whereis(name);
        if (pid !== undefined && rt.remoteMonitor(watcher, pid, ref)) {
          this.#state(from).watchedBy.set(ref.toString(), { target: pid, ref });
          this.#sendTo(from, [Kind.NameResolved, watcher, ref, pid]);
        } else {
          this.#sendTo(from, [Kind.Down, watcher, ref, pid ?? rt.systemPid, 'noproc']);
        }
        return;
      }
      case Kind.NameResolved: {
        const [, watcher, ref, pid] = m;
        if (!(watcher instanceof Pid) || !(ref instanceof Ref) || !isPidFrom(pid, from)) return;
        const tracked = this.#remote.get(from)?.watching.get(ref.toString());
        if (tracked !== undefined) tracked.target = pid;
        rt.resolveNameMonitor(watcher, ref, pid);
        return;
      }
      case Kind.Registry:
        this.#global.receive(from, m[1]);
        return;
      case Kind.Groups:
        this.pg.receive(from, m[1]);
        return;
      case Kind.Reliable: {
        const frame = m[1] as unknown;
        if (!Array.isArray(frame) || typeof frame[1] !== 'string' || !this.transport.channels.has(frame[1])) throw new Error('a reliable frame of an unknown channel');
        this.#reliable.receive(from, frame);
        return;
      }
      case Kind.Switch: {
        const switchMessage = parseSwitchMessage(m[1]);
        if (switchMessage === null) throw new Error('a malformed topology switch message');
        this.#switcher.receive(from, switchMessage);
        return;
      }
      case Kind.Load: {
        const l = m[1] as Partial<NodeLoad> | null;
        if (typeof l === 'object' && l !== null && typeof l.processes === 'number' && typeof l.loopDelayMs === 'number' && typeof l.mailboxes === 'number') {
          this.#loads.set(from, { processes: l.processes, loopDelayMs: l.loopDelayMs, mailboxes: l.mailboxes, at: this.#clock.now() });
        }
        return;
      }
      case Kind.Leaving:
        this.#leaving.add(from);
        return;
      case Kind.SpawnReply: {
        const [, id, pid, code, text] = m;
        const pending = this.#spawns.get(id);
        if (pending?.node !== from) return;
        this.#spawns.delete(id);
        this.#clock.clearTimer(pending.timer);
        if (pid instanceof Pid) pending.resolve(pid);
        else pending.reject(new DistributionError((code ?? DistributionErrorCode.SPAWN_FAILED), text ?? `spawn on ${from} failed`));
        return;
      }
      default:
        this.#undecodable(from, `a message of unknown kind ${String(m[0])}`, null);
    }
  }

  async #onSpawnRequest(from: string, m: Message): Promise<void> {
    const [, id, behaviour, args, requester, link, ref, system] = m as [Kind.SpawnRequest, number, string, unknown[], Pid | null, boolean, Ref | null, boolean | undefined];
    if (typeof id !== 'number' || typeof behaviour !== 'string' || !Array.isArray(args)) return;
    let pid: Pid;
    try {
      pid = await this.#startSpawned(from, behaviour, args, system === true);
    } catch (err) {
      const e = err as DistributionError;
      this.#sendTo(from, [Kind.SpawnReply, id, null, e.code, e.message]);
      return;
    }
    // Linked or monitored before the reply leaves: an exit right after start is not missed.
    if (requester instanceof Pid && requester.node === from) {
      if (link && this.runtime.remoteLink(requester, pid)) this.#state(from).links.set(pairKey(pid, requester), { local: pid, remote: requester });
      if (ref instanceof Ref && this.runtime.remoteMonitor(requester, pid, ref)) this.#state(from).watchedBy.set(ref.toString(), { target: pid, ref });
    }
    this.#sendTo(from, [Kind.SpawnReply, id, pid, null, null]);
    // Dead already: the remote side learns it through the link or monitor set up above.
    if (!this.runtime.isAlive(pid) && requester instanceof Pid) {
      if (link) this.#sendTo(from, [Kind.LinkExit, pid, requester, 'noproc']);
      if (ref instanceof Ref) this.#sendTo(from, [Kind.Down, requester, ref, pid, 'noproc']);
    }
  }

  /** The spawner's half of a link the target made at spawn. */
  #adoptRemoteLink(ctx: ProcessContext, pid: Pid): void {
    if (this.runtime.adoptRemoteLink(ctx.self, pid)) this.#state(pid.node).links.set(pairKey(ctx.self, pid), { local: ctx.self, remote: pid });
  }

  /** The spawner's half of a monitor the target made at spawn. */
  #adoptRemoteMonitor(ctx: ProcessContext, pid: Pid, ref: Ref): void {
    if (this.runtime.adoptRemoteMonitor(ctx.self, pid, ref)) this.#state(pid.node).watching.set(ref.toString(), { watcher: ctx.self, target: pid, ref });
  }

  // ==== Nodes ====

  /** Links and monitors `node`'s processes hold on this node's (bounded: MAX_SIGNALS_PER_PEER). */
  #signalsFrom(node: string): number {
    const s = this.#remote.get(node);
    return s === undefined ? 0 : s.links.size + s.watchedBy.size;
  }

  #state(node: string): RemoteNodeState {
    let s = this.#remote.get(node);
    if (s === undefined) {
      s = { links: new Map(), watching: new Map(), watchedBy: new Map(), pending: null };
      this.#remote.set(node, s);
    }
    return s;
  }

  /** A node is gone: every link and monitor across to it breaks with `noconnection`. */
  #nodeLost(node: string, why: string): void {
    const s = this.#remote.get(node);
    this.#remote.delete(node);
    for (const [id, spawn] of this.#spawns) {
      if (spawn.node !== node) continue;
      this.#spawns.delete(id);
      this.#clock.clearTimer(spawn.timer);
      spawn.reject(new DistributionError(DistributionErrorCode.NOCONNECTION, `spawn on ${node}: the node was lost (${why})`));
    }
    this.#switcher.nodeDown(node);
    // A node lost during a switch may be listed by the new overlay with no link to tell it.
    this.#pending?.overlay.suspect(node);
    this.#global.nodeDown(node);
    this.pg.nodeDown(node);
    this.#loads.delete(node);
    if (s !== undefined) {
      for (const { local, remote } of s.links.values()) this.runtime.remoteLinkExit(remote, local, 'noconnection');
      for (const { watcher, target, ref } of s.watching.values()) this.runtime.remoteDown(watcher, ref, target, 'noconnection');
      for (const { target, ref } of s.watchedBy.values()) this.runtime.remoteDemonitor(target, ref);
    }
    this.#seen.set(node, { lostAt: this.#clock.now(), why });
    this.#leaving.delete(node);
    this.#emit({ type: 'nodedown', node, reason: why });
  }

  #unknownChannel(channel: string): DistributionError {
    const channels = [...this.transport.channels.keys()].filter((c) => c !== 'control');
    return new DistributionError(DistributionErrorCode.BAD_ARGUMENT, `unknown channel '${channel}' (this node has ${channels.join(', ')}); add it to the node's \`channels\` option, the same on every node`);
  }

  /** Why `node` is not reachable: lost (when, why) or never reached (and what to check). */
  #explainNoconnection(node: string): string {
    const seen = this.#seen.get(node);
    if (seen?.lostAt != null) return `the connection to node ${node} was lost ${String(Math.round((this.#clock.now() - seen.lostAt) / 1000))} s ago (${seen.why ?? 'unknown'})`;
    if (seen !== undefined) return `node ${node} is not reachable from ${this.name} now`;
    const known = this.nodes();
    return `node ${node} was never reached from ${this.name}: it is not a member of this cluster (connected: ${known.length === 0 ? 'none' : known.slice(0, 10).join(', ')}). Check the node name, that ${node} runs with the same secret, and that it joined through a seed`;
  }

  #emit(event: NodeEvent): void {
    for (const pid of this.#nodeWatchers) {
      if (this.runtime.isAlive(pid)) this.runtime.send(pid, event);
      else this.#nodeWatchers.delete(pid);
    }
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        this.logger.error('a node event listener threw', { reason: err });
      }
    }
  }
}

/**
 * Links and monitors one node's processes may hold on this node's processes; past it a link gets
 * an exit `system_limit` and a monitor a DOWN `system_limit` (OTP's name for a resource limit).
 */
const MAX_SIGNALS_PER_PEER = 1_000_000;

/** Pub/sub: announcements flushed and lost payloads grafted sooner, anti-entropy twice as often (event streams trade a few more IHAVEs for lower tail delay). */
const PUBSUB_PLUMTREE: PlumtreeOptions = { lazyTickMs: 50, graftTimeoutMs: 100, graftRetryMs: 100, exchangeTickMs: 5_000 };

function pairKey(local: Pid, remote: Pid): string {
  return `${local.toString()}|${remote.toString()}`;
}

/** A pid claimed to be on `node`: a node speaks only for its own processes. */
function isPidFrom(x: unknown, node: string): x is Pid {
  return x instanceof Pid && x.node === node;
}


/** The transport's part of the channel options (reliability is this layer's). */
/** @internal */
export function transportChannels(channels: Record<string, NodeChannelOptions>): Record<string, ChannelOptions> {
  const out: Record<string, ChannelOptions> = {};
  for (const [name, { reliability, broadcast, ...rest }] of Object.entries(channels)) {
    if (broadcast !== undefined && !['direct', 'plumtree'].includes(broadcast)) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `channel '${name}': broadcast must be 'direct' or 'plumtree'`);
    if (reliability !== undefined && !['best_effort', 'at_least_once'].includes(reliability)) {
      throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `channel '${name}': reliability must be 'best_effort' or 'at_least_once'`);
    }
    out[name] = rest;
  }
  return out;
}

function makeOverlay(overlay: OverlayConfig | undefined, seeds: (string | PeerSpec)[], components: Parameters<ReturnType<typeof fullMesh>>[0]): PeerService {
  const config = overlay ?? 'fullMesh';
  const kind = typeof config === 'string' ? config : config.kind;
  const rest = typeof config === 'string' ? {} : config;
  switch (kind) {
    case 'fullMesh':
      return fullMesh({ seeds, ...(rest as FullMeshOptions) })(components);
    case 'hyparview':
    case 'pubSub': {
      const overlay = hyparview({ seeds, ...(rest as HyParViewOptions) })(components);
      if ((rest as { directory?: boolean }).directory !== false) overlay.useDirectory();
      return overlay;
    }
    case 'clientServer':
      return clientServer({ seeds, ...(rest as ClientServerOptions) })(components);
    case 'static':
      return staticMembers({ seeds, ...(rest as StaticOptions) })(components);
    default:
      throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `unknown overlay '${String(kind)}': use fullMesh, hyparview, clientServer or static`);
  }
}
