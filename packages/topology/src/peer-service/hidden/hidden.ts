// Hidden: a node that attaches to a cluster without joining it (Erlang's hidden nodes, as
// `remsh` and observer attach). It connects to the nodes it is told to join and to nobody else,
// and says nothing on the overlay protocol, so to the cluster's overlays its connections are
// on-demand ones from a stranger: it is never a member, never gossiped, never a neighbour, and
// nothing is placed on it. It sees the nodes it joined as members; through them it can reach the rest.

import type { Connection, ConnectionDownReason } from '../../transport/types.ts';
import { BasePeerService, toSpec } from '../base.ts';
import type { PeerServiceComponents, PeerServiceOptions } from '../base.ts';
import type { PeerSpec } from '../types.ts';

export type HiddenOptions = PeerServiceOptions;

/** A hidden peer service: joins its seeds (and whatever `join` names) as a visitor. */
export function hidden(options: HiddenOptions = {}): (components: PeerServiceComponents) => HiddenPeerService {
  return (components) => new HiddenPeerService(options, components);
}

export class HiddenPeerService extends BasePeerService {
  readonly kind = 'hidden';
  /** The nodes this one attached to: its only members and neighbours. */
  readonly #attached = new Map<string, PeerSpec>();
  protected override readonly reachabilityFollowsConnections = true;

  /** Connects to `contact`; resolves once connected (FDN_ERR_CONNECT_FAILED if it cannot be reached). */
  async join(contact: PeerSpec | string): Promise<void> {
    const connection = await this.connectTo(toSpec(contact));
    const name = connection.peer.name;
    this.#attached.set(name, { name, addresses: connection.peer.addresses });
    this.adoptConnection(name);
    this.membershipChanged(undefined, [name]);
    this.events.emit('neighborUp', name);
  }

  /** Closes the connections it opened: to the cluster it was only ever a visitor. */
  leave(): Promise<void> {
    for (const name of [...this.#attached.keys()]) {
      this.#attached.delete(name);
      this.transport.connection(name)?.close('detached');
      this.membershipChanged({ kind: 'left', message: 'detached' }, [name]);
    }
    return Promise.resolve();
  }

  neighbors(): string[] {
    return [...this.#attached.keys()].filter((n) => this.transport.connection(n) !== undefined).sort();
  }

  protected isNeighbor(node: string): boolean {
    return this.#attached.has(node);
  }

  protected currentMembers(): Iterable<string> {
    return [this.self.name, ...this.#attached.keys()];
  }

  protected override hasMember(node: string): boolean {
    return node === this.self.name || this.#attached.has(node);
  }

  protected override reachable(node: string): boolean {
    return this.transport.connection(node) !== undefined;
  }

  /** The cluster's overlays talk to a stranger that connects (a full mesh sends its member set): not ours to answer. */
  protected onOverlayMessage(_connection: Connection, _value: unknown): void {
    // Deliberately ignored: a hidden node takes no part in membership.
  }

  protected onConnectionUp(_connection: Connection): void {
    // Only `join` makes a connection ours; one dialled in by a cluster node stays on-demand.
  }

  /** An attached node's connection broke: it is down here; dial it again with backoff (up to 5 s), as a remote shell reconnects, until `leave`. */
  protected onConnectionDown(connection: Connection, _reason: ConnectionDownReason): void {
    const spec = this.#attached.get(connection.peer.name);
    if (spec === undefined || this.transport.connection(spec.name) !== undefined) return;
    this.events.emit('neighborDown', spec.name);
    this.#redial(spec, 0);
  }

  #redial(spec: PeerSpec, attempt: number): void {
    this.after(Math.min(5_000, 500 * 2 ** attempt), () => {
      if (this.#attached.get(spec.name) !== spec || this.transport.connection(spec.name) !== undefined) return;
      this.join(spec).catch((err: unknown) => {
        this.logger.debug(`could not attach to ${spec.name} again`, { reason: err });
        this.#redial(spec, attempt + 1);
      });
    });
  }
}
