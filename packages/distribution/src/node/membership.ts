// Which nodes are up, as processes see it: `nodeup` and `nodedown` (Erlang's monitor_nodes), the
// reconnect grace (a brief cut back to the same start of a node is not a loss), restarts (a new
// start of a node is a loss of the old one), and why a node is not reachable (for error texts).
// Features that keep per-node state subscribe with `onUp` and `onLost`, in the order they register.

import type { Clock, Logger, TimerHandle } from '@fdn/core';
import type { Pid, Runtime } from '@fdn/actors';
import type { Connection } from '@fdn/topology';
import { DistributionError, DistributionErrorCode } from '../errors/errors.ts';
import type { NodeEvent } from './options.ts';

/** What membership needs from its node. */
export interface MembershipHost {
  readonly name: string;
  readonly runtime: Runtime;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The incarnation of `node` on this node's connection to it, if there is one. */
  connectionIncarnation(node: string): number | undefined;
  /** The other nodes connected now. */
  nodes(): string[];
  /** True once the node is stopping (no grace is started then). */
  stopped(): boolean;
}

/** Node up/down events, the reconnect grace, and node watchers (see the file comment). */
export class Membership {
  readonly #upHooks: ((node: string) => void)[] = [];
  readonly #lostHooks: ((node: string, why: string) => void)[] = [];
  readonly #watchers = new Set<Pid>();
  readonly #listeners = new Set<(event: NodeEvent) => void>();
  /** Nodes this node has been connected to, and when and why each was lost (for error messages). */
  readonly #seen = new Map<string, { lostAt: number | null; why: string | null }>();
  /** Connections that dropped within the reconnect grace: the node is not lost (yet). */
  readonly #graced = new Map<string, { timer: TimerHandle; incarnation: number | undefined; reason: string }>();
  /** The incarnation each connected node had when it came up (a different one back within the grace is a restart). */
  readonly #incarnations = new Map<string, number>();
  /** Nodes that said they are stopping in order (until they are down). */
  readonly #leaving = new Set<string>();

  readonly #leavingHooks = new Set<(node: string) => void>();

  constructor(
    private readonly host: MembershipHost,
    private readonly reconnectGraceMs: number,
  ) {}

  /** Calls `hook` when a node comes up (before processes hear `nodeup`). */
  onUp(hook: (node: string) => void): void {
    this.#upHooks.push(hook);
  }

  /** Calls `hook` when a node is lost (before processes hear `nodedown`): break what crosses to it. */
  onLost(hook: (node: string, why: string) => void): void {
    this.#lostHooks.push(hook);
  }

  /** A connection came up: back within the grace as another start of that node, it was a restart (a loss). */
  connectionUp(connection: Connection): void {
    const node = connection.peer.name;
    const graced = this.#graced.get(node);
    if (graced?.incarnation !== undefined && graced.incarnation !== connection.peer.incarnation) {
      this.#graced.delete(node);
      this.host.clock.clearTimer(graced.timer);
      this.#lost(node, graced.reason);
    }
    if (!this.#graced.has(node)) this.#incarnations.set(node, connection.peer.incarnation);
  }

  /** The node's overlay reports `node` up. */
  up(node: string): void {
    const incarnation = this.host.connectionIncarnation(node);
    const graced = this.#graced.get(node);
    if (graced !== undefined) {
      this.#graced.delete(node);
      this.host.clock.clearTimer(graced.timer);
      // Back within the grace, the same start of that node (or one we never knew the start of:
      // reached through the overlay, not a connection of ours): it was never lost.
      if (incarnation === graced.incarnation || graced.incarnation === undefined || incarnation === undefined) {
        this.host.logger.info(`connection to ${node} back within the reconnect grace: not a node loss`);
        return;
      }
      this.#lost(node, graced.reason);
    }
    if (incarnation !== undefined) this.#incarnations.set(node, incarnation);
    this.#seen.set(node, { lostAt: null, why: null });
    this.#leaving.delete(node);
    for (const hook of this.#upHooks) hook(node);
    this.#emit({ type: 'nodeup', node });
  }

  /** The node's overlay reports `node` down (`kind` says why: `left` for an orderly stop). */
  down(node: string, kind: string): void {
    // A connection that drops may come back at once (a brief cut): with a reconnect grace, wait for it.
    // (A second down during the grace changes nothing: its timer decides.)
    if (this.#graced.has(node) && kind !== 'left') return;
    if (this.reconnectGraceMs > 0 && kind !== 'left' && !this.host.stopped()) {
      const timer = this.host.clock.setTimer(this.reconnectGraceMs, () => {
        if (this.#graced.get(node)?.timer !== timer) return;
        this.#graced.delete(node);
        this.#lost(node, kind);
      });
      this.#graced.set(node, { timer, incarnation: this.#incarnations.get(node), reason: kind });
      return;
    }
    this.#lost(node, kind);
  }

  /** `node` said it is stopping in order: place nothing new on it (and move what is there: the hooks). */
  markLeaving(node: string): void {
    if (this.#leaving.has(node)) return;
    this.#leaving.add(node);
    for (const hook of this.#leavingHooks) {
      try {
        hook(node);
      } catch (err) {
        this.host.logger.error('a node-leaving listener threw', { reason: err });
      }
    }
  }

  /** Calls `hook` when a node says it is stopping in order; returns a function that removes it. */
  onLeaving(hook: (node: string) => void): () => void {
    this.#leavingHooks.add(hook);
    return () => this.#leavingHooks.delete(hook);
  }

  isLeaving(node: string): boolean {
    return this.#leaving.has(node);
  }

  /** Sends nodeup/nodedown to a live local process until it exits or `on` is false. */
  monitorNodes(pid: Pid, on: boolean): void {
    if (!on) {
      this.#watchers.delete(pid);
      return;
    }
    const { runtime, name } = this.host;
    if (!runtime.isAlive(pid) || pid.node !== name) throw new DistributionError(DistributionErrorCode.BAD_ARGUMENT, `monitorNodes needs a live process of ${name}; ${pid.toString()} is ${pid.node === name ? 'not alive' : `on ${pid.node}`}`);
    this.#watchers.add(pid);
  }

  onNodeEvent(listener: (event: NodeEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Why `node` is not reachable: lost (when, why) or never reached (and what to check). */
  explainNoconnection(node: string): string {
    const { clock, name } = this.host;
    const seen = this.#seen.get(node);
    if (seen?.lostAt != null) return `the connection to node ${node} was lost ${String(Math.round((clock.now() - seen.lostAt) / 1000))} s ago (${seen.why ?? 'unknown'})`;
    if (seen !== undefined) return `node ${node} is not reachable from ${name} now`;
    const known = this.host.nodes();
    return `node ${node} was never reached from ${name}: it is not a member of this cluster (connected: ${known.length === 0 ? 'none' : known.slice(0, 10).join(', ')}). Check the node name, that ${node} runs with the same secret, and that it joined through a seed`;
  }

  /** The node stops: pending graces end without a verdict. */
  stop(): void {
    for (const { timer } of this.#graced.values()) this.host.clock.clearTimer(timer);
    this.#graced.clear();
  }

  /** A node is gone: every feature breaks what crosses to it, then processes hear `nodedown`. */
  #lost(node: string, why: string): void {
    for (const hook of this.#lostHooks) hook(node, why);
    this.#seen.set(node, { lostAt: this.host.clock.now(), why });
    this.#leaving.delete(node);
    this.#emit({ type: 'nodedown', node, reason: why });
  }

  #emit(event: NodeEvent): void {
    const { runtime, logger } = this.host;
    for (const pid of this.#watchers) {
      if (runtime.isAlive(pid)) runtime.send(pid, event);
      else this.#watchers.delete(pid);
    }
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        logger.error('a node event listener threw', { reason: err });
      }
    }
  }
}
