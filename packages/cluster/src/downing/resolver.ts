// The split brain resolver of one node. The failure detector only says "unreachable"; this
// decides, once the view has been stable for `stableAfterMs`, which side of a partition stays up:
// every node gossips the rows (whom each member is connected to) that changed since its last
// gossip, and all of them to a node new to it and now and then to one other; it splits the view into sides
// (view.ts), downs indirectly connected members, and asks the strategy about its own side. The
// side that stays downs the others (drops them and tells them); a node that is downed stops.
// Every member of a side sees the same rows once gossip settles, so they decide alike.

import type { TimerHandle } from '@fdn/core';
import type { DowningHost } from './host.ts';
import type { DowningStrategy } from './strategies.ts';
import { splitSides } from './view.ts';
import type { Member } from './view.ts';

export interface ResolverOptions {
  /** How long the view must stay unchanged before deciding (default 20,000 ms, Akka's for small clusters). Longer than your failure detector's time to notice a loss and than a few gossip rounds. */
  stableAfterMs?: number;
  /** Between two gossips of the rows (default 1,000 ms; a change is gossiped at once too). */
  gossipMs?: number;
}

/** A decision, as logged and emitted (`fdn.cluster.sbr.decision`). */
export interface DowningDecision {
  strategy: string;
  /** `stay`: this node's side stays up and downs `downed`; `down`: this node downs itself. */
  decision: 'stay' | 'down';
  /** This node's side (empty when it was indirectly connected). */
  side: string[];
  /** The members this node downs (for `stay`). */
  downed: string[];
  indirectlyConnected: string[];
  /** How long the view had been stable, ms. */
  stableMs: number;
}

type RowEntry = [name: string, incarnation: number, version: number, sees: string[]];
interface Gossip {
  t: 'fdn.sbr';
  rows: RowEntry[];
  downed: [name: string, incarnation: number][];
}

const isGossip = (m: unknown): m is Gossip => typeof m === 'object' && m !== null && (m as { t?: unknown }).t === 'fdn.sbr' && Array.isArray((m as Gossip).rows) && Array.isArray((m as Gossip).downed);

/** One node's split brain resolver; start it with `startSplitBrainResolver`. */
export class SplitBrainResolver {
  readonly #host: DowningHost;
  readonly #strategy: DowningStrategy;
  readonly #stableAfterMs: number;
  readonly #gossipMs: number;
  /** Rows by member: incarnation, version (per incarnation), whom it is connected to. */
  readonly #rows = new Map<string, { incarnation: number; version: number; sees: Set<string> }>();
  /** Downed members: the incarnation downed (a later one may join again). */
  readonly #downed = new Map<string, number>();
  /** Members that left in order (until they come back). */
  readonly #left = new Set<string>();
  #version = 0;
  #signature = '';
  #stableSince: number;
  #timer: TimerHandle | null = null;
  #gossipQueued = false;
  /** Rows changed since the last gossip: what the next one carries (all rows go only to a new node and, now and then, to one at random). */
  readonly #dirty = new Set<string>();
  /** The downed list changed since the last gossip. */
  #downedChanged = false;
  #ticks = 0;
  #stopped = false;
  #decided: DowningDecision | null = null;
  readonly #off: (() => void)[] = [];

  constructor(host: DowningHost, strategy: DowningStrategy, options: ResolverOptions = {}) {
    this.#host = host;
    this.#strategy = strategy;
    this.#stableAfterMs = options.stableAfterMs ?? 20_000;
    this.#gossipMs = options.gossipMs ?? 1_000;
    this.#stableSince = host.clock.now();
    this.#updateOwnRow();
    this.#off.push(
      host.onNodeEvent((e) => {
        if (e.type === 'nodedown' && e.reason === 'left') {
          this.#left.add(e.node);
          this.#rows.delete(e.node);
        } else if (e.type === 'nodeup') {
          this.#left.delete(e.node);
          // A node new to us (or back) gets every row we know, not only the next changes.
          this.#host.send(e.node, this.#message([...this.#rows.keys()]));
        }
        this.#updateOwnRow();
        this.#queueGossip();
      }),
      host.receive((m) => {
        if (isGossip(m)) this.#merge(m);
      }),
    );
    this.#tick();
  }

  /** The last decision this node took (null: none yet). */
  get decision(): DowningDecision | null {
    return this.#decided;
  }

  /** The members as this node sees them now, with their rows (for diagnostics and tests). */
  view(): { members: Member[]; rows: Record<string, string[]>; downed: string[] } {
    return { members: this.#members(), rows: Object.fromEntries([...this.#rows].map(([n, r]) => [n, [...r.sees].sort()])), downed: [...this.#downed.keys()].sort() };
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) this.#host.clock.clearTimer(this.#timer);
    this.#timer = null;
    for (const off of this.#off.splice(0)) off();
  }

  #tick(): void {
    if (this.#stopped) return;
    this.#gossip();
    // Anti-entropy: every tenth tick, all rows to one connected node, each in turn (a change lost on the way is found again).
    if (++this.#ticks % 10 === 0) {
      const peers = this.#host.connected().filter((n) => !this.#isDowned(n));
      const peer = peers[(this.#ticks / 10) % Math.max(1, peers.length)];
      if (peer !== undefined) this.#host.send(peer, this.#message([...this.#rows.keys()]));
    }
    this.#evaluate();
    this.#timer = this.#host.clock.setTimer(this.#gossipMs, () => {
      this.#tick();
    });
  }

  #updateOwnRow(): void {
    const sees = new Set(this.#host.connected().filter((n) => !this.#isDowned(n)));
    const mine = this.#rows.get(this.#host.name);
    if (mine !== undefined && sameSet(mine.sees, sees)) return;
    this.#rows.set(this.#host.name, { incarnation: this.#host.incarnation, version: ++this.#version, sees });
    this.#dirty.add(this.#host.name);
  }

  #isDowned(name: string, incarnation?: number): boolean {
    const downed = this.#downed.get(name);
    if (downed === undefined) return false;
    const current = incarnation ?? this.#rows.get(name)?.incarnation;
    return current === undefined || current <= downed;
  }

  #members(): Member[] {
    const names = new Set<string>([this.#host.name, ...this.#host.connected(), ...this.#rows.keys()]);
    const members: Member[] = [];
    for (const name of names) {
      if (this.#left.has(name) || this.#isDowned(name)) continue;
      members.push({ name, incarnation: this.#rows.get(name)?.incarnation ?? Number.MAX_SAFE_INTEGER });
    }
    return members.sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  #merge(g: Gossip): void {
    let changed = false;
    for (const [name, incarnation] of g.downed) {
      if ((this.#downed.get(name) ?? -1) >= incarnation) continue;
      this.#downed.set(name, incarnation);
      this.#downedChanged = true;
      changed = true;
      if (name === this.#host.name && incarnation >= this.#host.incarnation) {
        this.#downSelf('another side of a partition downed this node');
        return;
      }
    }
    for (const [name, incarnation, version, sees] of g.rows) {
      if (name === this.#host.name || this.#isDowned(name, incarnation)) continue;
      const known = this.#rows.get(name);
      if (known !== undefined && (known.incarnation > incarnation || (known.incarnation === incarnation && known.version >= version))) continue;
      this.#rows.set(name, { incarnation, version, sees: new Set(sees) });
      this.#dirty.add(name);
      changed = true;
    }
    // Judged at the next tick: evaluating costs O(members²), gossip arrives from every member.
    if (changed) this.#queueGossip();
  }

  #queueGossip(): void {
    if (this.#gossipQueued || this.#stopped) return;
    this.#gossipQueued = true;
    queueMicrotask(() => {
      this.#gossipQueued = false;
      this.#gossip();
    });
  }

  /** The rows changed since the last gossip, to every connected node (nothing when nothing changed). */
  #gossip(): void {
    if (this.#stopped) return;
    this.#updateOwnRow();
    if (this.#dirty.size === 0 && !this.#downedChanged) return;
    const message = this.#message([...this.#dirty]);
    this.#dirty.clear();
    this.#downedChanged = false;
    for (const node of this.#host.connected()) {
      if (!this.#isDowned(node)) this.#host.send(node, message);
    }
  }

  #message(names: readonly string[]): Gossip {
    const rows: RowEntry[] = [];
    for (const name of names) {
      const r = this.#rows.get(name);
      if (r !== undefined) rows.push([name, r.incarnation, r.version, [...r.sees]]);
    }
    return { t: 'fdn.sbr', rows, downed: [...this.#downed] };
  }

  /** Looks at the view: restarts the stable period when it changed, decides once it has been stable long enough. */
  #evaluate(): void {
    if (this.#stopped) return;
    this.#updateOwnRow();
    const members = this.#members();
    const names = new Set(members.map((m) => m.name));
    const rows = new Map<string, ReadonlySet<string>>();
    for (const [name, r] of this.#rows) if (names.has(name)) rows.set(name, new Set([...r.sees].filter((n) => names.has(n))));
    const signature = JSON.stringify([members, [...rows].map(([n, s]) => [n, [...s].sort()]).sort()]);
    const now = this.#host.clock.now();
    if (signature !== this.#signature) {
      this.#signature = signature;
      this.#stableSince = now;
    }
    const split = splitSides({ self: this.#host.name, members, rows });
    if (split.sides.length <= 1 && split.indirectlyConnected.length === 0) return;
    const stableMs = now - this.#stableSince;
    if (stableMs < this.#stableAfterMs) return;
    const judged = members.filter((m) => !split.indirectlyConnected.includes(m.name));
    const verdict = split.own.length === 0 ? 'down' : this.#strategy.decide(split.own, judged);
    const decision: DowningDecision = {
      strategy: this.#strategy.name,
      decision: verdict,
      side: split.own,
      downed: verdict === 'stay' ? members.map((m) => m.name).filter((n) => !split.own.includes(n)) : [],
      indirectlyConnected: split.indirectlyConnected,
      stableMs,
    };
    this.#decided = decision;
    if (this.#host.telemetry.active) this.#host.telemetry.emit('fdn.cluster.sbr.decision', { downed: decision.downed.length, stableMs }, { ...decision });
    if (verdict === 'down') {
      const why = split.own.length === 0 ? 'it is indirectly connected (cut from part of its own side)' : `its side [${split.own.join(', ')}] is not the one ${this.#strategy.name} keeps among ${String(judged.length)} members`;
      this.#downSelf(`split brain resolver (${this.#strategy.name}): this node goes down: ${why}`);
      return;
    }
    this.#host.logger.warn(`split brain resolver (${this.#strategy.name}): this side [${split.own.join(', ')}] stays up and downs [${decision.downed.join(', ')}] after ${String(Math.round(stableMs))} ms of a stable view${split.indirectlyConnected.length > 0 ? ` (indirectly connected: ${split.indirectlyConnected.join(', ')})` : ''}`, { downed: decision.downed });
    for (const name of decision.downed) {
      this.#downed.set(name, this.#rows.get(name)?.incarnation ?? 0);
      this.#rows.delete(name);
      this.#dirty.delete(name);
      this.#downedChanged = true;
    }
    // Tell the downed ones still connected (the rest of an indirectly connected pair), then drop them.
    this.#gossip();
    const notice: Gossip = { t: 'fdn.sbr', rows: [], downed: [...this.#downed] };
    for (const name of decision.downed) {
      this.#host.send(name, notice);
      this.#host.disconnect(name);
    }
    this.#signature = '';
  }

  #downSelf(reason: string): void {
    if (this.#stopped) return;
    this.#host.logger.warn(reason);
    this.stop();
    this.#host.downSelf(reason);
  }
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
