// The node's overlay: the one it runs, the one a topology switch brings up beside it (on the other
// protocol tags, over the same connections), and the Plumtree over the current one. The switch's steps
// on this node happen here: prepare (build the new overlay), join (until it reaches every live
// participant), commit (make it the node's), abort, and adopt (a node that missed a switch takes
// the newer overlay from a peer). Only the current overlay's up/down events reach membership.

import type { Clock, Logger, Random } from '@fdn/core';
import { DEFAULT_CHANNEL, MessageLog, Plumtree } from '@fdn/topology';
import type { PeerService, PeerSpec, PlumtreeOptions, PlumtreeStats, Transport } from '@fdn/topology';
import { newerEpoch } from '../switching/switcher.ts';
import type { SwitchRecord, TopologyEpoch } from '../switching/switcher.ts';
import type { TopologyName } from '../switching/topologies.ts';
import type { OverlayConfig } from '../node/options.ts';
import { Kind } from '../node/protocol.ts';
import type { Message } from '../node/protocol.ts';
import { makeOverlay, topologyOf } from './make-overlay.ts';
import type { OverlayComponents } from './make-overlay.ts';

/** What the overlays need from their node. */
export interface OverlaysHost {
  readonly name: string;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  /** A message for this node's dispatcher that a broadcast tree delivered (not straight over a connection). */
  receiveFrame(from: string, payload: Buffer): void;
  /** The receiver of `channel`'s messages straight over a connection (from any overlay: the new one carries switch traffic). */
  receiverFor(channel: string): (from: string, payload: Buffer) => void;
  /** The current overlay reports a node up or down. */
  up(node: string): void;
  down(node: string, kind: string): void;
  send(node: string, message: Message): void;
  /** A switch this node adopted from a peer, for the switch history. */
  adopted(record: SwitchRecord): void;
}

/** Settings of the overlays, from the node's options. */
export interface OverlaysConfig {
  overlay: OverlayConfig | undefined;
  seeds: readonly (string | PeerSpec)[];
  /** The servers of a client-server overlay brought up by a switch (default: the first √n participants). */
  servers: string[] | undefined;
  /** Channels whose broadcast mode the configuration chose (the others follow the topology). */
  broadcastModes: ReadonlyMap<string, 'direct' | 'plumtree'>;
}

/** Pub/sub: announcements flushed and lost payloads grafted sooner, anti-entropy twice as often (event streams trade a few more IHAVEs for lower tail delay). */
const PUBSUB_PLUMTREE: PlumtreeOptions = { lazyTickMs: 50, graftTimeoutMs: 100, graftRetryMs: 100, exchangeTickMs: 5_000 };

/** Nodes whose last known addresses are kept (about a cluster's size; cleared past it). */
const MAX_ADDRESS_BOOK = 10_000;

/** The current and pending overlays and the Plumtree (see the file comment). */
export class Overlays {
  #current: PeerService;
  /** The overlay's topology name, protocol tags, servers, and epoch: what nodes compare to converge on one overlay after switches. */
  #topo: TopologyEpoch;
  /** The overlay being brought up by a switch, not yet the node's, and what it will be. */
  #pending: { overlay: PeerService; topology: TopologyName; tags: 'primary' | 'alternate'; servers: string[] } | null = null;
  /** Channels whose broadcasts go over Plumtree. */
  readonly #plumtreeBroadcast = new Set<string>();
  #plumtree: Plumtree;
  readonly #components: OverlayComponents;
  readonly #addressBook = new Map<string, PeerSpec>();
  #stopped = false;

  constructor(
    private readonly host: OverlaysHost,
    private readonly config: OverlaysConfig,
  ) {
    this.#components = { transport: host.transport, clock: host.clock, random: host.random, logger: host.logger.child({ component: 'overlay' }) };
    this.#current = makeOverlay(config.overlay, [...config.seeds], this.#components);
    this.#topo = { epoch: 0, switchId: '', topology: topologyOf(config.overlay, this.#current) as TopologyName, tags: 'primary', servers: config.servers ?? [] };
    this.#plumtree = this.#makePlumtree(this.#current);
    this.#bind(this.#current);
  }

  /** The overlay the node runs now (it changes with a switch). */
  get current(): PeerService {
    return this.#current;
  }

  /** The overlay being brought up by a switch, if any. */
  get pending(): PeerService | null {
    return this.#pending?.overlay ?? null;
  }

  /** The current overlay's topology, protocol tags, client-server servers and epoch. */
  get topo(): TopologyEpoch {
    return { ...this.#topo, servers: [...this.#topo.servers] };
  }

  /** True when broadcasts on `channel` go over Plumtree. */
  viaPlumtree(channel: string): boolean {
    return this.#plumtreeBroadcast.has(channel);
  }

  /** Broadcasts an encoded message over the Plumtree of `channel`. */
  broadcast(channel: string, bytes: Buffer): void {
    this.#plumtree.broadcast(`fdn.broadcast.${channel}`, bytes);
  }

  /** The other nodes the current overlay has up now, sorted. */
  nodes(): string[] {
    const overlay = this.#current;
    return overlay.members().filter((n) => n !== this.host.name && overlay.isUp(n));
  }

  /** `node` was lost: the overlay a switch brings up may still list it with no connection to tell it. */
  nodeLost(node: string): void {
    this.#pending?.overlay.suspect(node);
  }

  /** The node stops: Plumtree first, then the pending overlay (the current one leaves later). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#plumtree.stop();
    await this.#pending?.overlay.detach();
  }

  /** Routes `overlay`'s traffic to the dispatcher, and its events to membership while it is the current one. */
  #bind(overlay: PeerService): void {
    for (const channel of this.host.transport.channels.keys()) {
      if (channel === 'control') continue;
      overlay.onMessage(channel, this.host.receiverFor(channel));
    }
    overlay.on('up', (node) => {
      if (overlay === this.#current) this.host.up(node);
    });
    overlay.on('down', (node, reason) => {
      if (overlay === this.#current) this.host.down(node, reason.kind);
    });
  }

  /** Broadcast modes follow the topology (Plumtree under HyParView and pub/sub) unless configured. */
  #makePlumtree(overlay: PeerService): Plumtree {
    const { host } = this;
    const viaPlumtree = this.#topo.topology === 'hyparview' || this.#topo.topology === 'pubSub';
    this.#plumtreeBroadcast.clear();
    for (const channel of host.transport.channels.keys()) {
      if (channel !== 'control' && (this.config.broadcastModes.get(channel) ?? (viaPlumtree ? 'plumtree' : 'direct')) === 'plumtree') this.#plumtreeBroadcast.add(channel);
    }
    const tuning = this.#topo.topology === 'pubSub' ? PUBSUB_PLUMTREE : {};
    const plumtree = new Plumtree(tuning, { transport: host.transport, peerService: overlay, clock: host.clock, random: host.random.fork(), logger: host.logger.child({ component: 'plumtree' }) });
    for (const channel of this.#plumtreeBroadcast) {
      // Plumtree's own frames travel on the control channel, beside the overlay's (a channel
      // has one receiver, and this node's is the direct-send path): broadcasts over Plumtree
      // keep their order and reach, not their channel's sockets.
      plumtree.register(
        new MessageLog<Buffer>({
          name: `fdn.broadcast.${channel}`,
          node: host.name,
          deliver: (payload, info) => {
            if (info.root !== host.name) host.receiveFrame(info.root, payload);
          },
        }),
      );
    }
    return plumtree;
  }

  // ==== A switch, on this node ====

  /** Brings the new overlay up beside the current one (listening on the other tags, not joining yet). */
  async prepare(to: TopologyName, participants: string[]): Promise<{ ok: boolean; why?: string }> {
    if (this.#pending !== null) await this.abort();
    const tags = this.#topo.tags === 'primary' ? 'alternate' : 'primary';
    const servers = this.#serversOf(participants);
    const overlay = makeOverlay({ ...this.#overlayConfig(to, this.#specsOf(participants), servers), protocolTags: tags }, this.#seedsFor(to), this.#components);
    this.#pending = { overlay, topology: to, tags, servers };
    this.#current.setHandover(true);
    overlay.setHandover(true);
    this.#bind(overlay);
    await overlay.start();
    return { ok: true };
  }

  /** HyParView uses its seeds beyond the first join (an isolated node rejoins, islands merge); the others join as the switch tells them. */
  #seedsFor(to: TopologyName): (string | PeerSpec)[] {
    return to === 'hyparview' || to === 'pubSub' ? [...this.config.seeds] : [];
  }

  #overlayConfig(to: TopologyName, specs: PeerSpec[], servers: string[]): Exclude<OverlayConfig, string | ((...args: never[]) => unknown)> {
    switch (to) {
      case 'fullMesh':
        return { kind: 'fullMesh' };
      case 'static':
        return { kind: 'static', members: specs };
      case 'clientServer':
        return { kind: 'clientServer', role: servers.includes(this.host.name) ? 'server' : 'client' };
      case 'hyparview':
      case 'pubSub':
        return { kind: to };
    }
  }

  /**
   * Joins the new overlay through the others (a server for client-server) and waits until it
   * reaches every participant still up on the current overlay (one that went down is not waited for).
   */
  async join(participants: string[], timeoutMs: number): Promise<{ ok: boolean; why?: string }> {
    const { clock, name } = this.host;
    const pending = this.#pending;
    if (pending === null) return { ok: false, why: `${name} has no new overlay to join` };
    const overlay = pending.overlay;
    const live = (p: string): boolean => p === name || this.#current.isUp(p);
    const contacts = this.#specsOf(participants).filter((s) => s.name !== name && live(s.name) && (overlay.kind !== 'clientServer' || pending.servers.includes(s.name)));
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
    let lastJoin = clock.now();
    const deadline = clock.now() + timeoutMs;
    for (;;) {
      if (this.#pending !== pending) return { ok: false, why: 'aborted' };
      // Every live participant a member the new overlay can reach (not only listed: a client-server
      // client must have connected to the servers).
      const lacking = participants.filter((p) => p !== name && live(p) && !overlay.isUp(p));
      if (lacking.length === 0) return { ok: true };
      if (overlay.kind === 'hyparview' && overlay.neighbors().length === 0 && clock.now() - lastJoin >= 1_000) {
        entry = [...entry.slice(1), ...entry.slice(0, 1)];
        await joinSome();
        lastJoin = clock.now();
        continue;
      }
      if (clock.now() >= deadline) {
        return { ok: false, why: `${name}'s new ${overlay.kind} overlay does not reach ${lacking.slice(0, 10).join(', ')}${lacking.length > 10 ? ` and ${String(lacking.length - 10)} more` : ''} after ${String(timeoutMs)} ms` };
      }
      // Checked again every 50 ms, and near the end also as soon as the new overlay reports a
      // member up (not earlier: a check costs O(n), a thousand members come up one by one).
      const nearlyDone = lacking.length <= 8;
      await new Promise<void>((resolve) => {
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

  /** How to reach each participant: as the current overlay knows it, or from its connection. */
  #specsOf(participants: string[]): PeerSpec[] {
    return participants.map((p) => this.#specOf(p)).filter((s): s is PeerSpec => s !== undefined);
  }

  #specOf(node: string): PeerSpec | undefined {
    const { transport, name } = this.host;
    if (node === name) return { name: node, addresses: [...transport.self.addresses] };
    const addresses = this.#current.spec(node)?.addresses ?? transport.connection(node)?.peer.addresses ?? [];
    if (addresses.length === 0) return this.#addressBook.get(node);
    const spec = { name: node, addresses: [...addresses] };
    this.#remember(spec);
    return spec;
  }

  /** Where a node was last known to be: an overlay adopted from a peer starts knowing nobody, and a join that failed is tried again from here. */
  #remember(spec: PeerSpec): void {
    if (this.#addressBook.size >= MAX_ADDRESS_BOOK && !this.#addressBook.has(spec.name)) this.#addressBook.clear();
    this.#addressBook.set(spec.name, spec);
  }

  #serversOf(participants: string[]): string[] {
    return this.config.servers ?? participants.slice(0, Math.max(1, Math.ceil(Math.sqrt(participants.length))));
  }

  /** The broadcast layer's counters (since the current overlay's Plumtree started) and this node's eager and lazy peers in its own tree. */
  broadcastStats(): PlumtreeStats & { eager: number; lazy: number } {
    const peers = this.#plumtree.peers(this.host.name);
    return { ...this.#plumtree.stats, eager: peers.eager.length, lazy: peers.lazy.length };
  }

  /** Makes the prepared overlay the node's; participants lost during the switch are suspected in it. */
  commit(epoch: number, switchId: string, excused: string[]): void {
    const next = this.#pending;
    if (next === null) return;
    this.#pending = null;
    this.#install(next.overlay, { epoch, switchId, topology: next.topology, tags: next.tags, servers: next.servers });
    next.overlay.setHandover(false);
    for (const node of excused) next.overlay.suspect(node);
    this.tellEpoch();
  }

  /** Tells every connected node this node's epoch: those not part of the switch (they joined meanwhile, or were on the other side of a partition) follow. */
  tellEpoch(): void {
    for (const connection of this.host.transport.connections()) this.tellEpochTo(connection.peer.name);
  }

  tellEpochTo(node: string): void {
    this.host.send(node, [Kind.Switch, { op: 'epoch', ask: false, ...this.epochWithContacts() }]);
  }

  /** The node's epoch, and for a client-server overlay how to reach its servers: a node that adopts it may know none of them. */
  epochWithContacts(): TopologyEpoch & { contacts?: PeerSpec[] } {
    const topo = this.topo;
    return topo.topology === 'clientServer' ? { ...topo, contacts: this.#specsOf(topo.servers) } : topo;
  }

  /** Makes `overlay` the node's (the old one detached: its connections stay for the new one). */
  #install(overlay: PeerService, topo: TopologyEpoch): void {
    const old = this.#current;
    this.#current = overlay;
    this.#topo = topo;
    this.#plumtree.stop();
    this.#plumtree = this.#makePlumtree(overlay);
    void old.detach();
  }

  async abort(): Promise<void> {
    const pending = this.#pending;
    this.#pending = null;
    await pending?.overlay.detach();
    this.#current.setHandover(false);
  }

  /**
   * `from` runs a newer overlay (more committed switches): this node, which missed that switch,
   * brings the same overlay up on the same tags, joins it through `from` and drops its own.
   */
  async adopt(from: string, info: TopologyEpoch & { contacts?: PeerSpec[] }): Promise<void> {
    const { clock, name, logger } = this.host;
    // A hidden node (the `fdn` command) hears the cluster's epoch too, and must stay out of it.
    if (this.#stopped || (this.#topo.topology as string) === 'hidden') return;
    const topo: TopologyEpoch = { epoch: info.epoch, switchId: info.switchId, topology: info.topology, tags: info.tags, servers: info.servers };
    // Who to join through, and how to reach them, while the current overlay still knows them.
    const told = new Map((info.contacts ?? []).map((c) => [c.name, c]));
    for (const c of told.values()) if (this.#specOf(c.name) === undefined) this.#remember(c);
    const contacts = [from, ...topo.servers]
      .filter((n, i, all) => n !== name && all.indexOf(n) === i && (topo.topology !== 'clientServer' || topo.servers.includes(name) || topo.servers.includes(n)))
      .map((n) => this.#specOf(n) ?? told.get(n))
      .filter((s): s is PeerSpec => s !== undefined);
    if (!newerEpoch(info, this.#topo)) {
      // The same overlay, adopted before without reaching anyone (no contact was known then): try again.
      const same = info.epoch === this.#topo.epoch && info.switchId === this.#topo.switchId;
      if (same && this.nodes().length === 0 && this.#current.kind !== 'static') await this.#joinThrough(this.#current, contacts);
      return;
    }
    if (topo.topology === this.#topo.topology && topo.tags === this.#topo.tags) {
      this.#topo = topo;
      return;
    }
    logger.info(`adopting ${topo.topology} (epoch ${String(topo.epoch)}) from ${from}: this node missed that switch`);
    const from0 = this.#topo.topology;
    if (this.#pending !== null) await this.abort();
    const contact = this.#specOf(from);
    const overlay = makeOverlay({ ...this.#overlayConfig(topo.topology, [...this.#specsOf([name]), ...(contact === undefined ? [] : [contact])], topo.servers), protocolTags: topo.tags }, this.#seedsFor(topo.topology), this.#components);
    this.#bind(overlay);
    this.#install(overlay, topo);
    this.host.adopted({ time: clock.now(), from: from0, to: topo.topology, reason: `adopted from ${from} (epoch ${String(topo.epoch)})`, ms: 0 });
    // The news spreads connection by connection (after a partition heals, a whole half adopts this way).
    this.tellEpoch();
    await overlay.start();
    if (overlay.kind === 'static' || this.#current !== overlay) return;
    await this.#joinThrough(overlay, contacts);
  }

  /** Joins an adopted overlay through the first contact that answers (a client of client-server: a server). */
  async #joinThrough(overlay: PeerService, contacts: PeerSpec[]): Promise<void> {
    for (const spec of contacts) {
      try {
        await overlay.join(spec);
        return;
      } catch (err) {
        this.host.logger.debug(`joining the adopted ${overlay.kind} overlay through ${spec.name} failed`, { reason: err });
      }
    }
    this.host.logger.warn(`could not join the adopted ${overlay.kind} overlay: ${contacts.length === 0 ? 'no contact known yet (it is tried again when a peer tells its epoch)' : 'no contact answered'}`);
  }

  /** Sends a switch message over the new overlay (or the current one), bypassing the node's connections. */
  forwardOver(which: 'new' | 'current', node: string, bytes: Buffer): void {
    const overlay = which === 'new' ? (this.#pending?.overlay ?? this.#current) : this.#current;
    void overlay.forward(node, DEFAULT_CHANNEL, bytes).catch(() => undefined);
  }

  neighbors(which: 'new' | 'current'): string[] {
    return (which === 'new' ? (this.#pending?.overlay ?? this.#current) : this.#current).neighbors();
  }
}
