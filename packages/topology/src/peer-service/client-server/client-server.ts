// ClientServer: nodes are servers or clients. Servers connect to every server; clients connect to every
// server and to no client. Membership is FullMesh's OR-set (every node knows every member, role
// included), gossiped over those connections. A client forwards to another client through a server
// (a relay): the servers are the hubs, as in Partisan's client-server manager, and a client
// never holds more connections than there are servers. Each server tells its clients which clients it
// is connected to, so a client knows which others it can reach, and through which server.

import type { Connection, ConnectionDownReason } from '../../transport/types.ts';
import { isName } from '../validate.ts';
import type { PeerServiceComponents } from '../base.ts';
import { FullMesh } from '../full-mesh/full-mesh.ts';
import type { FullMeshOptions, MemberSpec } from '../full-mesh/full-mesh.ts';
import type { ForwardStatus } from '../types.ts';
import type { SendOptions } from '../../transport/types.ts';
import { TopologyError, TopologyErrorCode } from '../../errors.ts';

export type Role = 'server' | 'client';

export interface ClientServerOptions extends FullMeshOptions {
  /** What this node is. */
  role: Role;
}

/** A client-server peer service. */
export function clientServer(options: ClientServerOptions): (components: PeerServiceComponents) => ClientServer {
  return (components) => new ClientServer(options, components);
}

/**
 * What a server tells its clients: the clients it is connected to (all of them, or one change); and
 * what a client asks a server that has not told it (a client whose overlay started on connections that
 * were already up, as after a topology switch, which the server had announced to an earlier one).
 */
// The tags keep their first names ('cs.linked', 'cs.link'): they are wire format, shared with earlier versions.
type Reach = { t: 'cs.linked'; nodes: string[] } | { t: 'cs.link'; node: string; up: boolean } | { t: 'cs.ask' };

export class ClientServer extends FullMesh {
  override readonly kind = 'clientServer';
  readonly role: Role;
  /** On a client: per connected server, the clients it says it is connected to. */
  readonly #reach = new Map<string, Set<string>>();
  /** The keys of `#reach` in name order (null: to be sorted again). */
  #reachOrder: string[] | null = null;
  /** On a server: the connected clients already announced to the others. */
  readonly #told = new Set<string>();
  /** On a client: the servers asked for their reach (and not answered yet). */
  readonly #asked = new Set<string>();

  constructor(options: ClientServerOptions, components: PeerServiceComponents) {
    if ((options.role as unknown) !== 'server' && (options.role as unknown) !== 'client') {
      throw new TopologyError(TopologyErrorCode.BAD_CONFIG, `clientServer: role must be 'server' or 'client', not ${JSON.stringify(options.role)}`);
    }
    super(options, components);
    this.role = options.role;
  }

  /** The servers among the members. */
  servers(): string[] {
    return this.members().filter((m) => this.#roleOf(m) === 'server');
  }

  /** The clients among the members. */
  clients(): string[] {
    return this.members().filter((m) => this.#roleOf(m) === 'client');
  }

  #roleOf(name: string): Role | undefined {
    return name === this.self.name ? this.role : this.member(name)?.role;
  }

  protected override selfMember(): MemberSpec {
    return { ...super.selfMember(), role: this.role };
  }

  /** Everyone dials the servers; nobody dials a client (clients dial in). */
  protected override shouldDial(member: MemberSpec): boolean {
    return member.role === 'server';
  }

  /** Past 64 members `gossipsTo` already narrows a change to the hubs and a server's own clients: all of those get it. */
  protected override changeFanout(): number {
    return this.memberCount() <= 64 ? super.changeFanout() : Number.POSITIVE_INFINITY;
  }

  /**
   * Changes go at once between servers, and between each client and one server (its home: picked
   * by a hash of the client's name over the servers): a thousand clients each gossiping to every
   * server, and every server to every client, would cost O(clients × servers) full states per
   * change. The periodic digests still go over every link (anti-entropy). Small clusters
   * (64 members or fewer) gossip to random neighbours like a full mesh: cheap at that size.
   */
  protected override gossipsTo(node: string): boolean {
    if (this.memberCount() <= 64) return true;
    if (this.role === 'client') return this.#homeOf(this.self.name) === node;
    return this.#roleOf(node) === 'server' || this.#homeOf(node) === this.self.name;
  }

  /** The server a client gossips with: among the known servers by a hash of its name (all nodes agree once membership does). */
  #homeOf(client: string): string | undefined {
    const servers = this.servers();
    if (servers.length === 0) return undefined;
    let h = 0;
    for (let i = 0; i < client.length; i++) h = (h * 31 + client.charCodeAt(i)) >>> 0;
    return servers[h % servers.length];
  }

  /** A client's neighbours are the servers; a server's are every member connected to it. */
  protected override isNeighbor(node: string): boolean {
    if (!super.isNeighbor(node)) return false;
    return this.role === 'server' || this.#roleOf(node) === 'server';
  }

  /** Clients reach each other through a server connected to both. */
  protected override reachable(node: string): boolean {
    if (this.transport.connection(node) !== undefined) return true;
    return this.role === 'client' && this.#serverConnection(node) !== undefined;
  }

  protected override onConnectionUp(connection: Connection): void {
    const name = connection.peer.name;
    // A client refuses connections from other clients: the topology says they go through a server.
    if (this.role === 'client' && this.#roleOf(name) === 'client') {
      // (Kept, not adopted, while another overlay shares the connections.)
      if (!this.handover) connection.close('clients do not connect to clients');
      return;
    }
    super.onConnectionUp(connection);
    if (this.role === 'server') this.#tellClients();
  }

  protected override onConnectionDown(connection: Connection, reason: ConnectionDownReason): void {
    super.onConnectionDown(connection, reason);
    const name = connection.peer.name;
    if (this.role === 'client') {
      this.#asked.delete(name);
      if (this.#reach.delete(name)) {
        this.#reachOrder = null;
        // The clients reached only through that server are out of reach now.
        this.refreshReachability({ kind: 'unreachable', message: `lost the connection to server ${name}` });
      }
    } else if (this.#told.delete(name) && this.member(name) !== undefined) {
      // (A client that left is gone from the membership: the gossip says so, as 'left'.)
      for (const client of this.#connectedClients()) if (this.#told.has(client.peer.name)) this.sendOverlay(client, { t: 'cs.link', node: name, up: false } satisfies Reach);
    }
  }

  /**
   * A server, for each connected client not announced yet (its role becomes known once its
   * membership gossip arrives): tell it which clients we are connected to, and the others about it.
   */
  #tellClients(): void {
    const clients = this.#connectedClients();
    for (const connection of clients) {
      const name = connection.peer.name;
      if (this.#told.has(name)) continue;
      this.#told.add(name);
      this.sendOverlay(connection, { t: 'cs.linked', nodes: clients.map((l) => l.peer.name) } satisfies Reach);
      for (const other of clients) if (other !== connection && this.#told.has(other.peer.name)) this.sendOverlay(other, { t: 'cs.link', node: name, up: true } satisfies Reach);
    }
  }

  /** A client asks each connected server that has not told it whom it reaches. */
  #askServers(): void {
    for (const connection of this.transport.connections()) {
      const name = connection.peer.name;
      if (this.#reach.has(name) || this.#asked.has(name) || this.#roleOf(name) !== 'server') continue;
      this.#asked.add(name);
      this.sendOverlay(connection, { t: 'cs.ask' } satisfies Reach);
    }
  }

  #connectedClients(): Connection[] {
    return this.transport.connections().filter((l) => this.#roleOf(l.peer.name) === 'client');
  }

  protected override onOverlayMessage(connection: Connection, value: unknown): void {
    const m = value as Partial<Reach> & Record<string, unknown>;
    if (m.t === 'cs.ask') {
      if (this.role !== 'server' || this.#roleOf(connection.peer.name) !== 'client') return;
      this.#told.delete(connection.peer.name);
      this.#tellClients();
      return;
    }
    if (m.t !== 'cs.linked' && m.t !== 'cs.link') {
      super.onOverlayMessage(connection, value);
      if (this.role === 'server') this.#tellClients();
      else this.#askServers();
      return;
    }
    const server = connection.peer.name;
    this.#asked.delete(server);
    if (this.role !== 'client' || this.#roleOf(server) !== 'server') return;
    // Only the clients named can change reachability: a thousand clients announced one by one
    // must not cost a thousand checks of every member each.
    let touched: Iterable<string>;
    if (m.t === 'cs.linked' && Array.isArray(m.nodes) && m.nodes.every(isName)) {
      const before = this.#reach.get(server);
      const after = new Set(m.nodes);
      if (before === undefined) this.#reachOrder = null;
      this.#reach.set(server, after);
      touched = before === undefined ? after : new Set([...before, ...after]);
    } else if (m.t === 'cs.link' && isName(m.node) && typeof m.up === 'boolean') {
      let set = this.#reach.get(server);
      if (set === undefined) {
        this.#reach.set(server, (set = new Set()));
        this.#reachOrder = null;
      }
      if (m.up) set.add(m.node);
      else set.delete(m.node);
      touched = [m.node];
    } else {
      this.logger.warn(`ignoring a malformed reachability message from ${server}`);
      return;
    }
    this.refreshReachability(undefined, touched);
  }

  protected override async forwardIndirect(node: string, channel: string, payload: Uint8Array, options?: SendOptions): Promise<ForwardStatus> {
    const target = this.#roleOf(node);
    if (target === undefined) return 'unknown';
    // To a server: dial it (it should be connected already). To a client: clients dial in, so a
    // server without a connection to it cannot reach it; a client relays through its server.
    if (target === 'server') return super.forwardIndirect(node, channel, payload, options);
    const via = this.role === 'client' ? this.#serverConnection(node) : undefined;
    if (via === undefined) return 'dropped';
    return this.relay(via, node, channel, payload);
  }

  /** A server relays for a client to any member it is connected to. */
  protected override relayConnection(target: string): Connection | undefined {
    return this.role === 'server' ? this.transport.connection(target) : undefined;
  }

  /**
   * A connection to a server connected to the client `target`: the first in name order, so the same one
   * while it lasts (relayed messages then keep their order).
   */
  #serverConnection(target: string): Connection | undefined {
    this.#reachOrder ??= [...this.#reach.keys()].sort();
    for (const server of this.#reachOrder) {
      if (this.#reach.get(server)?.has(target) !== true) continue;
      const connection = this.transport.connection(server);
      if (connection !== undefined) return connection;
    }
    return undefined;
  }
}
