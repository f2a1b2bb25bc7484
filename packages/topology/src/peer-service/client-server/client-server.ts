// ClientServer: nodes are servers or clients. Servers link to every server; clients link to every
// server and to no client. Membership is FullMesh's OR-set (every node knows every member, role
// included), gossiped over those links. A client forwards to another client through a server
// (a relay): the servers are the hubs, as in Partisan's client-server manager, and a client
// never holds more links than there are servers.

import type { Link } from '../../transport/types.ts';
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

export class ClientServer extends FullMesh {
  override readonly kind = 'clientServer';
  readonly role: Role;

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

  /** A client's neighbours are the servers; a server's are every member linked to it. */
  protected override isNeighbor(node: string): boolean {
    if (!super.isNeighbor(node)) return false;
    return this.role === 'server' || this.#roleOf(node) === 'server';
  }

  /** Clients reach each other through any server they are linked to. */
  protected override reachable(node: string): boolean {
    if (this.transport.link(node) !== undefined) return true;
    return this.role === 'client' && this.#roleOf(node) === 'client' && this.#serverLink() !== undefined;
  }

  protected override onLinkUp(link: Link): void {
    // A client refuses links from other clients: the topology says they go through a server.
    if (this.role === 'client' && this.#roleOf(link.peer.name) === 'client') {
      link.close('clients do not link to clients');
      return;
    }
    super.onLinkUp(link);
  }

  protected override async forwardIndirect(node: string, channel: string, payload: Uint8Array, options?: SendOptions): Promise<ForwardStatus> {
    const target = this.#roleOf(node);
    if (target === undefined) return 'unknown';
    // To a server: dial it (it should be linked already). To a client: clients dial in, so a
    // server without a link to it cannot reach it; a client relays through its server.
    if (target === 'server') return super.forwardIndirect(node, channel, payload, options);
    const via = this.role === 'client' ? this.#serverLink() : undefined;
    if (via === undefined) return 'dropped';
    return this.relay(via, node, channel, payload);
  }

  /** A server relays for a client to any member it links to. */
  protected override relayLink(target: string): Link | undefined {
    return this.role === 'server' ? this.transport.link(target) : undefined;
  }

  /** A link to a server, the same one while it lasts (relayed messages then keep their order). */
  #serverLink(): Link | undefined {
    const servers = this.servers().filter((s) => s !== this.self.name);
    for (const s of servers) {
      const link = this.transport.link(s);
      if (link !== undefined) return link;
    }
    return undefined;
  }
}
