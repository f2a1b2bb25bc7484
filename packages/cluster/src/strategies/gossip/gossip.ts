// UDP gossip (libcluster's `Gossip` strategy): every node announces itself to a multicast group
// (or by broadcast) every second or so, signed with the cluster secret; every node lists the
// nodes it heard from lately. For a LAN or a single host; nothing to run besides the nodes.

import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import type { TimerHandle } from '@fdn/core';
import { ClusterError, ClusterErrorCode } from '../../errors.ts';
import type { StrategyDefinition } from '../../strategy/definition.ts';
import { BaseStrategy } from '../../strategy/base.ts';
import type { Peer, StrategyComponents, StrategyFactory } from '../../strategy/strategy.ts';
import { decodeAnnouncement, encodeAnnouncement, ReplayGuard, secretMac } from './announcement.ts';
import type { Mac, Refusal } from './announcement.ts';

export interface GossipOptions {
  /** UDP port every node uses (default 45892, libcluster's). */
  port?: number;
  /** The address the socket binds to (default `0.0.0.0`; libcluster's `if_addr`). */
  ifAddr?: string;
  /** The multicast group (default `233.252.1.32`, libcluster's). */
  multicastAddr?: string;
  /** The interface for multicast (libcluster's `multicast_if`): default the system's choice. */
  multicastInterface?: string;
  /** Multicast TTL: how many routers an announcement crosses (default 1: this network only). */
  multicastTtl?: number;
  /** Announce by broadcast instead of multicast (libcluster's `broadcast_only`). */
  broadcastOnly?: boolean;
  /** Where broadcasts go (default `255.255.255.255`; `127.255.255.255` on one host). */
  broadcastAddr?: string;
  /** Signs and checks announcements (default: the node's cluster secret). Required one way or the other. */
  secret?: string | Uint8Array;
  /** Between two announcements of this node (default 1,000 ms, each ±50 % at random). */
  intervalMs?: number;
  /** A node not heard from this long is no longer listed (default 10 × the interval). */
  peerTtlMs?: number;
  /** Announcements older than this (by this node's clock) or seen before are refused (default 30,000 ms). */
  replayWindowMs?: number;
  /** Makes the UDP socket (default `dgram.createSocket`); for tests. */
  createSocket?: () => Socket;
}

/** Figures of a gossip strategy, for tests and diagnostics. */
export interface GossipCounters {
  sent: number;
  accepted: number;
  refused: Record<Refusal | 'replayed', number>;
}

/** The `gossip` strategy. */
export function gossip(options: GossipOptions = {}): StrategyFactory {
  return (components) => new GossipStrategy(options, components);
}

class GossipStrategy extends BaseStrategy {
  readonly kind = 'gossip';
  readonly counters: GossipCounters = { sent: 0, accepted: 0, refused: { not_fdn: 0, version: 0, bad_mac: 0, malformed: 0, replayed: 0 } };
  readonly #mac: Mac;
  readonly #port: number;
  readonly #target: string;
  readonly #intervalMs: number;
  readonly #peerTtlMs: number;
  readonly #replay: ReplayGuard;
  /** Who was heard, and when (this node's monotonic clock). */
  readonly #heard = new Map<string, { peer: Peer; at: number }>();
  #socket: Socket | null = null;
  #timer: TimerHandle | null = null;

  constructor(
    private readonly options: GossipOptions,
    components: StrategyComponents,
  ) {
    super(components);
    const mac = options.secret !== undefined && options.secret.length > 0 ? secretMac(options.secret) : components.mac;
    if (mac === undefined) throw new ClusterError(ClusterErrorCode.BAD_CONFIG, 'the gossip strategy needs the cluster secret to sign its announcements: run it on a node (startCluster), or give the strategy a `secret`');
    this.#mac = mac;
    this.#port = options.port ?? 45_892;
    this.#target = options.broadcastOnly === true ? (options.broadcastAddr ?? '255.255.255.255') : (options.multicastAddr ?? '233.252.1.32');
    this.#intervalMs = options.intervalMs ?? 1_000;
    this.#peerTtlMs = options.peerTtlMs ?? 10 * this.#intervalMs;
    this.#replay = new ReplayGuard(options.replayWindowMs ?? 30_000);
  }

  protected async begin(): Promise<void> {
    const socket = (this.options.createSocket ?? (() => createSocket({ type: 'udp4', reuseAddr: true })))();
    this.#socket = socket;
    socket.on('message', (datagram) => {
      this.#receive(datagram);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(this.#port, this.options.ifAddr ?? '0.0.0.0', () => {
          socket.off('error', reject);
          resolve();
        });
      });
      socket.on('error', (err) => {
        this.fail(new ClusterError(ClusterErrorCode.DISCOVERY_FAILED, `gossip socket on port ${String(this.#port)}: ${err.message}`, { cause: err }));
      });
      if (this.options.broadcastOnly === true) socket.setBroadcast(true);
      else {
        socket.addMembership(this.#target, this.options.multicastInterface);
        socket.setMulticastTTL(this.options.multicastTtl ?? 1);
        socket.setMulticastLoopback(true);
        if (this.options.multicastInterface !== undefined) socket.setMulticastInterface(this.options.multicastInterface);
      }
    } catch (err) {
      // The node runs on (a single-node cluster is better than none); what to do is in the log.
      this.fail(new ClusterError(ClusterErrorCode.DISCOVERY_FAILED, `gossip cannot use UDP port ${String(this.#port)} on ${this.options.ifAddr ?? '0.0.0.0'}: ${(err as Error).message}. Free the port, or give every node another one (gossip: { port })`, { cause: err }));
      this.#close();
      return;
    }
    this.#announce(false);
  }

  protected end(): Promise<void> {
    if (this.#timer !== null) this.components.clock.clearTimer(this.#timer);
    this.#timer = null;
    if (this.#socket === null) return Promise.resolve();
    // A goodbye, so the others forget this node now instead of after the time to live.
    const goodbye = this.#datagram(true);
    return new Promise((resolve) => {
      this.#socket?.send(goodbye, this.#port, this.#target, () => {
        this.#close();
        resolve();
      });
    });
  }

  #close(): void {
    try {
      this.#socket?.close();
    } catch {
      // already closed
    }
    this.#socket = null;
  }

  #datagram(leaving: boolean): Buffer {
    const { self } = this.components;
    return encodeAnnouncement({ name: self.name, addresses: [...self.addresses], time: this.components.clock.wallTime(), leaving }, this.#mac);
  }

  #announce(leaving: boolean): void {
    if (!this.running || this.#socket === null) return;
    this.counters.sent++;
    this.#socket.send(this.#datagram(leaving), this.#port, this.#target);
    this.#expire();
    const delay = this.#intervalMs * (0.5 + this.components.random.next());
    this.#timer = this.components.clock.setTimer(delay, () => {
      this.#announce(false);
    });
  }

  #receive(datagram: Buffer): void {
    const a = decodeAnnouncement(datagram, this.#mac);
    if (typeof a === 'string') {
      this.counters.refused[a]++;
      if (a === 'bad_mac') this.components.logger.debug('gossip: an announcement with a wrong MAC (another cluster, or a different secret) was ignored');
      return;
    }
    if (a.name === this.components.self.name) return;
    if (!this.#replay.accept(a, this.components.clock.wallTime())) {
      this.counters.refused.replayed++;
      return;
    }
    this.counters.accepted++;
    if (a.leaving) this.#heard.delete(a.name);
    else {
      const address = a.addresses[0];
      if (address === undefined) return;
      this.#heard.set(a.name, { peer: { name: a.name, address }, at: this.components.clock.now() });
    }
    this.setPeers([...this.#heard.values()].map((h) => h.peer));
  }

  #expire(): void {
    const cutoff = this.components.clock.now() - this.#peerTtlMs;
    let expired = false;
    for (const [name, h] of this.#heard) {
      if (h.at >= cutoff) continue;
      this.#heard.delete(name);
      expired = true;
    }
    if (expired) this.setPeers([...this.#heard.values()].map((h) => h.peer));
  }
}

/** The `gossip` strategy as configuration knows it (libcluster's `Gossip`). */
export const gossipDefinition: StrategyDefinition = {
  name: 'gossip',
  libcluster: ['Cluster.Strategy.Gossip'],
  fields: {
    port: { type: 'port', doc: 'UDP port of every node (default 45892)' },
    ifAddr: { type: 'string', doc: 'address the socket binds to (default 0.0.0.0)' },
    multicastAddr: { type: 'string', doc: 'multicast group (default 233.252.1.32)' },
    multicastInterface: { type: 'string', doc: 'interface for multicast' },
    multicastTtl: { type: 'number', doc: 'multicast TTL (default 1)' },
    broadcastOnly: { type: 'boolean', doc: 'broadcast instead of multicast' },
    broadcastAddr: { type: 'string', doc: 'where broadcasts go (default 255.255.255.255)' },
    secret: { type: 'secret', doc: "signs announcements (default the node's cluster secret)" },
    intervalMs: { type: 'number', doc: 'between announcements, ms (default 1000, ±50 %)' },
    peerTtlMs: { type: 'number', doc: 'forget a node not heard from this long, ms (default 10 × interval)' },
    replayWindowMs: { type: 'number', doc: 'refuse announcements older than this, ms (default 30000)' },
  },
  libclusterKeys: { port: 'port', if_addr: 'ifAddr', multicast_addr: 'multicastAddr', multicast_if: 'multicastInterface', multicast_ttl: 'multicastTtl', broadcast_only: 'broadcastOnly', secret: 'secret' },
  create: (o) => gossip(o),
};
