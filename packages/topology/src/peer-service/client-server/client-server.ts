// ClientServer: nodes are servers or clients. Servers link to every server; clients link to every
// server and to no client. Membership is FullMesh's OR-set (every node knows every member, role
// included), gossiped over those links. A client forwards to another client through a server
// (a relay): the servers are the hubs, as in Partisan's client-server manager, and a client
// never holds more links than there are servers. Each server tells its clients which clients it
// is linked to, so a client knows which others it can reach, and through which server.

import type { Link, LinkDownReason } from '../../transport/types.ts';
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
 * What a server tells its clients: the clients it is linked to (all of them, or one change); and
 * what a client asks a server that has not told it (a client whose overlay started on links that
 * were already up, as after a topology switch, which the server had announced to an earlier one).
 */
type Reach = { t: 'cs.linked'; nodes: string[] } | { t: 'cs.link'; node: string; up: boolean } | { t: 'cs.ask' };

export class ClientServer extends FullMesh {
  override readonly kind = 'clientServer';
  readonly role: Role;
  /** On a client: per linked server, the clients it says it is linked to. */
  readonly #reach = new Map<string, Set<string>>();
  /** The keys of `#reach` in name order (null: to be sorted again). */
  #reachOrder: string[] | null = null;
  /** On a server: the linked clients already announced to the others. */
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

  /**
   * Changes go at once between servers, and between each client and one server (its home: picked
   * by a hash of the client's name over the servers): a thousand clients each gossiping to every
   * server, and every server to every client, would cost O(clients × servers) full states per
   * change. The periodic gossip still goes to every neighbour (anti-entropy). Small clusters
   * (64 members or fewer) gossip to every neighbour: one hop less, and cheap at that size.
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

  /** A client's neighbours are the servers; a server's are every member linked to it. */
  protected override isNeighbor(node: string): boolean {
    if (!super.isNeighbor(node)) return false;
    return this.role === 'server' || this.#roleOf(node) === 'server';
  }

  /** Clients reach each other through a server linked to both. */
  protected override reachable(node: string): boolean {
    if (this.transport.link(node) !== undefined) return true;
    return this.role === 'client' && this.#serverLink(node) !== undefined;
  }

  protected override onLinkUp(link: Link): void {
    const name = link.peer.name;
    // A client refuses links from other clients: the topology says they go through a server.
    if (this.role === 'client' && this.#roleOf(name) === 'client') {
      // (Kept, not adopted, while another overlay shares the links.)
      if (!this.handover) link.close('clients do not link to clients');
      return;
    }
    super.onLinkUp(link);
    if (this.role === 'server') this.#tellClients();
  }

  protected override onLinkDown(link: Link, reason: LinkDownReason): void {
    super.onLinkDown(link, reason);
    const name = link.peer.name;
    if (this.role === 'client') {
      this.#asked.delete(name);
      if (this.#reach.delete(name)) {
        this.#reachOrder = null;
        // The clients reached only through that server are out of reach now.
        this.refreshReachability({ kind: 'unreachable', message: `lost the link to server ${name}` });
      }
    } else if (this.#told.delete(name) && this.member(name) !== undefined) {
      // (A client that left is gone from the membership: the gossip says so, as 'left'.)
      for (const client of this.#linkedClients()) if (this.#told.has(client.peer.name)) this.sendOverlay(client, { t: 'cs.link', node: name, up: false } satisfies Reach);
    }
  }

  /**
   * A server, for each linked client not announced yet (its role becomes known once its
   * membership gossip arrives): tell it which clients we link, and the others about it.
   */
  #tellClients(): void {
    const clients = this.#linkedClients();
    for (const link of clients) {
      const name = link.peer.name;
      if (this.#told.has(name)) continue;
      this.#told.add(name);
      this.sendOverlay(link, { t: 'cs.linked', nodes: clients.map((l) => l.peer.name) } satisfies Reach);
      for (const other of clients) if (other !== link && this.#told.has(other.peer.name)) this.sendOverlay(other, { t: 'cs.link', node: name, up: true } satisfies Reach);
    }
  }

  /** A client asks each linked server that has not told it whom it reaches. */
  #askServers(): void {
    for (const link of this.transport.links()) {
      const name = link.peer.name;
      if (this.#reach.has(name) || this.#asked.has(name) || this.#roleOf(name) !== 'server') continue;
      this.#asked.add(name);
      this.sendOverlay(link, { t: 'cs.ask' } satisfies Reach);
    }
  }

  #linkedClients(): Link[] {
    return this.transport.links().filter((l) => this.#roleOf(l.peer.name) === 'client');
  }

  protected override onOverlayMessage(link: Link, value: unknown): void {
    const m = value as Partial<Reach> & Record<string, unknown>;
    if (m.t === 'cs.ask') {
      if (this.role !== 'server' || this.#roleOf(link.peer.name) !== 'client') return;
      this.#told.delete(link.peer.name);
      this.#tellClients();
      return;
    }
    if (m.t !== 'cs.linked' && m.t !== 'cs.link') {
      super.onOverlayMessage(link, value);
      if (this.role === 'server') this.#tellClients();
      else this.#askServers();
      return;
    }
    const server = link.peer.name;
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
    // To a server: dial it (it should be linked already). To a client: clients dial in, so a
    // server without a link to it cannot reach it; a client relays through its server.
    if (target === 'server') return super.forwardIndirect(node, channel, payload, options);
    const via = this.role === 'client' ? this.#serverLink(node) : undefined;
    if (via === undefined) return 'dropped';
    return this.relay(via, node, channel, payload);
  }

  /** A server relays for a client to any member it links to. */
  protected override relayLink(target: string): Link | undefined {
    return this.role === 'server' ? this.transport.link(target) : undefined;
  }

  /**
   * A link to a server linked to the client `target`: the first in name order, so the same one
   * while it lasts (relayed messages then keep their order).
   */
  #serverLink(target: string): Link | undefined {
    this.#reachOrder ??= [...this.#reach.keys()].sort();
    for (const server of this.#reachOrder) {
      if (this.#reach.get(server)?.has(target) !== true) continue;
      const link = this.transport.link(server);
      if (link !== undefined) return link;
    }
    return undefined;
  }
}
