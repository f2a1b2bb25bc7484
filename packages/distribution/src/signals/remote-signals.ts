// Messages and signals between processes on different nodes: the runtime's RemoteRouter (what a
// local process sends out), the handlers of what arrives (messages, links, monitors, exits, DOWNs),
// and per peer node the links and monitors that cross to it, so that losing the node breaks each
// with `noconnection` (Erlang's semantics). A node speaks only for its own processes: a signal
// that claims another node's pid as its source is ignored.

import { Pid, Ref } from '@fdn/actors';
import type { RemoteEndpoint, RemoteName, RemoteRouter, Runtime } from '@fdn/actors';
import { DEFAULT_CHANNEL } from '@fdn/topology';
import { Kind } from '../node/protocol.ts';
import type { Message } from '../node/protocol.ts';
import type { Dispatcher } from '../node/dispatch.ts';
import type { NodeSendStatus } from '../node/options.ts';

/**
 * Links and monitors one node's processes may hold on this node's processes; past it a link gets
 * an exit `system_limit` and a monitor a DOWN `system_limit` (OTP's name for a resource limit).
 */
export const MAX_SIGNALS_PER_PEER = 1_000_000;

/** What remote signals need from their node. */
export interface RemoteSignalsHost {
  readonly runtime: Runtime;
  /** Sends a protocol message to `node` (see Outbound.send). */
  send(node: string, message: Message, channel?: string, partitionKey?: number): NodeSendStatus;
  /** The channel a message goes on when its send names none (the routing rules). */
  route(msg: unknown): string;
  /** True when `channel` has several connections per peer (only then is a partition key worth computing). */
  isParallel(channel: string): boolean;
  isUp(node: string): boolean;
  resolveGlobal(name: string): Pid | undefined;
  explainNoconnection(node: string): string;
}

/** Per remote node: the links and monitors that cross to it, to be broken when it is lost. */
interface CrossingSignals {
  /** `${local}|${remote}` → the pair. */
  links: Map<string, { local: Pid; remote: Pid }>;
  /** Monitors held by local processes on that node's processes, by ref. */
  watching: Map<string, { watcher: Pid; target: Pid; ref: Ref }>;
  /** Monitors held by that node's processes on local ones, by ref. */
  watchedBy: Map<string, { target: Pid; ref: Ref }>;
}

/** Remote messages, links, monitors and exit signals (see the file comment). */
export class RemoteSignals {
  readonly #peers = new Map<string, CrossingSignals>();
  /** How what arrives from other nodes reaches the runtime's processes (the runtime's side of the seam). */
  readonly endpoint: RemoteEndpoint;

  /**
   * Attaches the runtime to other nodes through this node: its router goes out, its endpoint
   * comes back. `maxSignalsPerPeer`: links and monitors one node's processes may hold here.
   */
  constructor(
    private readonly host: RemoteSignalsHost,
    private readonly maxSignalsPerPeer = MAX_SIGNALS_PER_PEER,
  ) {
    this.endpoint = host.runtime.attachRemote(this.#router());
  }

  /** Registers the handlers of the messages and signals that arrive from other nodes. */
  register(dispatch: Dispatcher): void {
    const rt = this.host.runtime;
    const ep = this.endpoint;
    dispatch.register(Kind.Send, (_from, m) => {
      if (m[1] instanceof Pid) ep.deliver(m[1], m[2]);
    });
    dispatch.register(Kind.SendNamed, (_from, m) => {
      if (typeof m[1] === 'string') ep.deliver(m[1], m[2]);
    });
    dispatch.register(Kind.Link, (from, [, remote, local]) => {
      if (!isPidFrom(remote, from) || !(local instanceof Pid)) return;
      if (this.signalsFrom(from) >= this.maxSignalsPerPeer) this.#signal(from, [Kind.LinkExit, local, remote, 'system_limit'], local, remote);
      else if (ep.link(remote, local)) this.trackLink(local, remote);
      else this.#signal(from, [Kind.LinkExit, local, remote, 'noproc'], local, remote);
    });
    dispatch.register(Kind.Unlink, (from, [, remote, local]) => {
      if (!isPidFrom(remote, from) || !(local instanceof Pid)) return;
      this.#peers.get(from)?.links.delete(pairKey(local, remote));
      ep.unlink(remote, local);
    });
    dispatch.register(Kind.LinkExit, (from, [, remote, local, reason]) => {
      if (!isPidFrom(remote, from) || !(local instanceof Pid)) return;
      this.#peers.get(from)?.links.delete(pairKey(local, remote));
      ep.linkExit(remote, local, reason);
    });
    dispatch.register(Kind.Exit, (from, [, remote, local, reason]) => {
      if (isPidFrom(remote, from) && local instanceof Pid) ep.exit(remote, local, reason);
    });
    dispatch.register(Kind.Monitor, (from, [, watcher, target, ref]) => {
      if (!isPidFrom(watcher, from) || !(target instanceof Pid) || !(ref instanceof Ref)) return;
      if (this.signalsFrom(from) >= this.maxSignalsPerPeer) this.#signal(from, [Kind.Down, watcher, ref, target, 'system_limit'], target, watcher);
      else if (ep.monitor(watcher, target, ref)) this.trackWatchedBy(from, target, ref);
      else this.#signal(from, [Kind.Down, watcher, ref, target, 'noproc'], target, watcher);
    });
    dispatch.register(Kind.Demonitor, (from, [, watcher, target, ref]) => {
      if (!isPidFrom(watcher, from) || !(target instanceof Pid) || !(ref instanceof Ref)) return;
      this.#peers.get(from)?.watchedBy.delete(ref.toString());
      ep.demonitor(target, ref);
    });
    dispatch.register(Kind.Down, (from, [, watcher, ref, target, reason]) => {
      if (!(watcher instanceof Pid) || !(ref instanceof Ref) || !isPidFrom(target, from)) return;
      this.#peers.get(from)?.watching.delete(ref.toString());
      ep.down(watcher, ref, target, reason);
    });
    dispatch.register(Kind.MonitorName, (from, [, watcher, name, ref]) => {
      if (!isPidFrom(watcher, from) || typeof name !== 'string' || !(ref instanceof Ref)) return;
      const pid = rt.whereis(name);
      if (pid !== undefined && ep.monitor(watcher, pid, ref)) {
        this.trackWatchedBy(from, pid, ref);
        this.#signal(from, [Kind.NameResolved, watcher, ref, pid], pid, watcher);
      } else {
        this.#signal(from, [Kind.Down, watcher, ref, pid ?? ep.systemPid, 'noproc'], pid ?? ep.systemPid, watcher);
      }
    });
    dispatch.register(Kind.NameResolved, (from, [, watcher, ref, pid]) => {
      if (!(watcher instanceof Pid) || !(ref instanceof Ref) || !isPidFrom(pid, from)) return;
      const tracked = this.#peers.get(from)?.watching.get(ref.toString());
      if (tracked !== undefined) tracked.target = pid;
      ep.resolveNameMonitor(watcher, ref, pid);
    });
  }

  /** The runtime's way out to other nodes. */
  #router(): RemoteRouter {
    const { host } = this;
    // The endpoint exists once attachRemote returned; the router calls it only later.
    const ep = (): RemoteEndpoint => this.endpoint;
    return {
      send: (from, to, msg) => {
        const channel = host.route(msg);
        host.send(to.node, [Kind.Send, to, msg], channel, host.isParallel(channel) ? pairPartition(from, to.id) : undefined);
      },
      sendNamed: (from, to: RemoteName, msg) => {
        const channel = host.route(msg);
        host.send(to.node, [Kind.SendNamed, to.name, msg], channel, host.isParallel(channel) ? pairPartition(from, nameHash(to.name)) : undefined);
      },
      link: (from, to) => {
        if (!host.isUp(to.node)) {
          queueMicrotask(() => {
            ep().linkExit(to, from, 'noconnection');
          });
          return;
        }
        this.trackLink(from, to);
        this.#signal(to.node, [Kind.Link, from, to], from, to);
      },
      unlink: (from, to) => {
        this.#peers.get(to.node)?.links.delete(pairKey(from, to));
        this.#signal(to.node, [Kind.Unlink, from, to], from, to);
      },
      linkExit: (from, to, reason) => {
        this.#peers.get(to.node)?.links.delete(pairKey(from, to));
        this.#signal(to.node, [Kind.LinkExit, from, to, reason], from, to);
      },
      exit: (from, to, reason) => {
        this.#signal(to.node, [Kind.Exit, from, to, reason], from, to);
      },
      monitor: (watcher, target, ref) => {
        if (!host.isUp(target.node)) {
          queueMicrotask(() => {
            ep().down(watcher, ref, target, 'noconnection');
          });
          return;
        }
        this.trackWatching(watcher, target, ref);
        this.#signal(target.node, [Kind.Monitor, watcher, target, ref], watcher, target);
      },
      monitorName: (watcher, target, ref) => {
        const unresolved = new Pid(target.node, 0, 0);
        if (!host.isUp(target.node)) {
          queueMicrotask(() => {
            ep().down(watcher, ref, unresolved, 'noconnection');
          });
          return;
        }
        this.trackWatching(watcher, unresolved, ref);
        host.send(target.node, [Kind.MonitorName, watcher, target.name, ref]);
      },
      demonitor: (watcher, target, ref) => {
        this.#peers.get(target.node)?.watching.delete(ref.toString());
        this.#signal(target.node, [Kind.Demonitor, watcher, target, ref], watcher, target);
      },
      down: (watcher, ref, target, reason) => {
        this.#peers.get(watcher.node)?.watchedBy.delete(ref.toString());
        this.#signal(watcher.node, [Kind.Down, watcher, ref, target, reason], target, watcher);
      },
      resolveName: () => undefined,
      resolveGlobal: (name) => host.resolveGlobal(name),
      explainNoconnection: (node) => host.explainNoconnection(node),
    };
  }

  /** A link between the local `local` and the remote `remote`, to break if `remote`'s node is lost. */
  trackLink(local: Pid, remote: Pid): void {
    this.#peer(remote.node).links.set(pairKey(local, remote), { local, remote });
  }

  /** The local `watcher` monitors the remote `target`. */
  trackWatching(watcher: Pid, target: Pid, ref: Ref): void {
    this.#peer(target.node).watching.set(ref.toString(), { watcher, target, ref });
  }

  /** A process of `node` monitors the local `target`. */
  trackWatchedBy(node: string, target: Pid, ref: Ref): void {
    this.#peer(node).watchedBy.set(ref.toString(), { target, ref });
  }

  /** Links and monitors `node`'s processes hold on this node's (bounded: `maxSignalsPerPeer`). */
  signalsFrom(node: string): number {
    const s = this.#peers.get(node);
    return s === undefined ? 0 : s.links.size + s.watchedBy.size;
  }

  /** `node` is gone: every link and monitor across to it breaks with `noconnection`. */
  nodeLost(node: string): void {
    const s = this.#peers.get(node);
    this.#peers.delete(node);
    if (s === undefined) return;
    const ep = this.endpoint;
    for (const { local, remote } of s.links.values()) ep.linkExit(remote, local, 'noconnection');
    for (const { watcher, target, ref } of s.watching.values()) ep.down(watcher, ref, target, 'noconnection');
    for (const { target, ref } of s.watchedBy.values()) ep.demonitor(target, ref);
  }

  /** A signal from process `from` to process `to`: on the default channel, in the pair's order with its messages. */
  #signal(node: string, message: Message, from: Pid, to: Pid): void {
    this.host.send(node, message, DEFAULT_CHANNEL, this.host.isParallel(DEFAULT_CHANNEL) ? pairPartition(from, to.id) : undefined);
  }

  #peer(node: string): CrossingSignals {
    let s = this.#peers.get(node);
    if (s === undefined) {
      s = { links: new Map(), watching: new Map(), watchedBy: new Map() };
      this.#peers.set(node, s);
    }
    return s;
  }
}

/**
 * The partition key of a (sender, receiver) pair: a channel with several connections spreads
 * pairs over them and keeps each pair on one (so its messages and signals keep their order).
 */
export function pairPartition(from: Pid | null, to: number): number {
  // Mixed (murmur3's finaliser): consecutive senders and receivers must spread over the low bits.
  let h = Math.imul(from?.id ?? 0, 0x9e3779b1) ^ to;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) & 0x7fffffff;
}

/** A name's number for `pairPartition` (FNV-1a). */
export function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function pairKey(local: Pid, remote: Pid): string {
  return `${local.toString()}|${remote.toString()}`;
}

/** A pid claimed to be on `node`: a node speaks only for its own processes. */
function isPidFrom(x: unknown, node: string): x is Pid {
  return x instanceof Pid && x.node === node;
}
