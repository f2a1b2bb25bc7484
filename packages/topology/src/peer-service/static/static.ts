// Static: the members are a list given in configuration; this node connects to each and redials
// with backoff, forever, when a connection breaks. Nothing is gossiped: every node is configured with
// the cluster. At run time, `join` adds a node on both sides (the contact lists the joiner too)
// and `leave` tells the listed nodes to drop this one. Partisan's static manager never
// reconnects; this one does.

import type { Connection, ConnectionDownReason } from '../../transport/types.ts';
import { BasePeerService, toSpec } from '../base.ts';
import type { PeerServiceComponents, PeerServiceOptions } from '../base.ts';
import { Redialer } from '../redial.ts';
import type { PeerSpec } from '../types.ts';
import { TopologyError, TopologyErrorCode } from '../../errors.ts';
import { isPeerSpec } from '../validate.ts';

type Message = { t: 'join'; spec: PeerSpec } | { t: 'leave' };

export interface StaticOptions extends PeerServiceOptions {
  /** The other members, with their addresses (this node may be listed too; it is skipped). */
  members: readonly PeerSpec[];
  /** First redial delay (default 500 ms, doubling up to `maxRedialMs`). */
  redialMs?: number;
  /** Default 30,000 ms. */
  maxRedialMs?: number;
}

/** A static peer service. */
export function staticMembers(options: StaticOptions): (components: PeerServiceComponents) => StaticPeerService {
  return (components) => new StaticPeerService(options, components);
}

export class StaticPeerService extends BasePeerService {
  readonly kind = 'static';
  readonly #list = new Map<string, PeerSpec>();
  readonly #redialer: Redialer;
  #left = false;
  /** Nodes reported by `neighborUp` and not yet by `neighborDown`. */
  readonly #neighbors = new Set<string>();

  constructor(options: StaticOptions, components: PeerServiceComponents) {
    super({ ...options, seeds: [] }, components);
    for (const spec of options.members) {
      if (!isPeerSpec(spec) || spec.addresses.length === 0) throw new TopologyError(TopologyErrorCode.BAD_CONFIG, `static: a member needs a valid name and at least one address: ${JSON.stringify(spec)}`);
      if (spec.name !== this.self.name) this.#list.set(spec.name, spec);
    }
    this.#redialer = new Redialer({
      firstMs: options.redialMs ?? 500,
      maxMs: options.maxRedialMs ?? 30_000,
      dial: (spec) => this.connectTo(spec),
      wanted: (name) => this.running && !this.#left && this.#list.has(name),
      after: (ms, fn) => this.after(ms, fn),
      cancel: (timer) => {
        this.cancel(timer);
      },
      random: this.random,
    });
  }

  protected override onStart(): void {
    this.membershipChanged();
    this.#connectAll();
  }

  protected override onStop(): void {
    this.#redialer.clear();
  }

  /** Connections already up (another overlay's, during a switch) are adopted; the missing ones dialled. */
  #connectAll(): void {
    for (const spec of this.#list.values()) {
      const connection = this.transport.connection(spec.name);
      if (connection === undefined) this.#redialer.dial(spec);
      else if (this.isNeighbor(spec.name)) this.#adopt(connection);
    }
  }

  protected override hasMember(node: string): boolean {
    return node === this.self.name || (!this.#left && this.#list.has(node));
  }

  protected currentMembers(): Iterable<string> {
    return this.#left ? [this.self.name] : [this.self.name, ...this.#list.keys()];
  }

  neighbors(): string[] {
    return [...this.#neighbors].sort();
  }

  protected isNeighbor(node: string): boolean {
    return !this.#left && this.#list.has(node);
  }

  protected override readonly reachabilityFollowsConnections = true;

  protected override reachable(node: string): boolean {
    return this.transport.connection(node) !== undefined;
  }

  /**
   * Adds a member and connects to it; the contact adds this node to its list in turn. Resolves once
   * connected; rejects if it cannot be reached now (it stays listed and redialled when named).
   */
  async join(contact: PeerSpec | string): Promise<void> {
    this.#left = false;
    const spec = toSpec(contact);
    const connection = await this.connectTo(spec).catch((err: unknown) => {
      if (spec.name !== '') {
        this.#list.set(spec.name, spec);
        this.membershipChanged();
        this.#redialer.dial(spec);
      }
      throw err;
    });
    if (connection.peer.name === this.self.name) return;
    this.#list.set(connection.peer.name, { name: connection.peer.name, addresses: spec.addresses.length > 0 ? spec.addresses : connection.peer.addresses });
    this.membershipChanged();
    this.#adopt(connection);
    this.sendOverlay(connection, { t: 'join', spec: this.selfSpec } satisfies Message);
  }

  /** Closes every connection and stops redialling; `join` (or a restart) brings the node back. */
  async leave(): Promise<void> {
    this.#redialer.clear();
    const connections = this.transport.connections().filter((l) => this.#list.has(l.peer.name));
    for (const connection of connections) this.sendOverlay(connection, { t: 'leave' } satisfies Message);
    this.#left = true;
    // Let the goodbyes reach the sockets before they close.
    await new Promise((resolve) => setImmediate(resolve));
    for (const connection of connections) connection.close('left the cluster');
    this.membershipChanged({ kind: 'left', message: 'this node left' });
  }

  protected onOverlayMessage(connection: Connection, value: unknown): void {
    const m = value as Partial<Message> & Record<string, unknown>;
    if (m.t === 'join' && isPeerSpec(m.spec) && m.spec.name === connection.peer.name) {
      if (this.#left) return;
      this.#list.set(m.spec.name, m.spec);
      this.membershipChanged();
      this.#adopt(connection);
    } else if (m.t === 'leave') {
      const name = connection.peer.name;
      if (!this.#list.delete(name)) return;
      this.#redialer.connected(name);
      if (this.#neighbors.delete(name)) this.events.emit('neighborDown', name);
      this.membershipChanged({ kind: 'left', message: `${name} left the cluster` });
    } else {
      this.logger.warn(`ignoring a malformed static membership message from ${connection.peer.name}`);
    }
  }

  /** A connection to a listed member: it is an overlay connection now. */
  #adopt(connection: Connection): void {
    const name = connection.peer.name;
    this.adoptConnection(name);
    this.#redialer.connected(name);
    if (this.#neighbors.has(name) || !connection.up) return;
    this.#neighbors.add(name);
    this.events.emit('neighborUp', name);
  }

  protected onConnectionUp(connection: Connection): void {
    if (this.isNeighbor(connection.peer.name)) this.#adopt(connection);
  }

  protected onConnectionDown(connection: Connection, _reason: ConnectionDownReason): void {
    const name = connection.peer.name;
    if (this.transport.connection(name) !== undefined) return;
    if (this.#neighbors.delete(name)) this.events.emit('neighborDown', name);
    if (!this.isNeighbor(name)) return;
    const spec = this.#list.get(name);
    if (spec !== undefined && this.running && !this.#left) this.#redialer.dial(spec);
  }
}
