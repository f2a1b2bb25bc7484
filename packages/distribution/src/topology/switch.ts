// Switching a running cluster's overlay: the node that asks runs the switch as an xstate machine —
// stable → announcing → migrating → verifying → committing → stable, or rolling back — and every
// node follows: on `prepare` it brings the new overlay up beside the old one on the same links (the
// other protocol tags) and says so; once all have, each joins it and waits until it lists every
// participant, and answers; on
// `commit` it makes the new overlay the node's and detaches the old one; on `abort` (or when the
// asker goes quiet) it detaches the new one. Links stay up throughout, so at-least-once traffic is
// neither lost nor doubled.
//
// Limits: the asker coordinates; if it dies between `commit` messages, nodes that missed theirs
// roll back on their own timer while the others committed (the advisor or an operator switches
// again). Verification is membership agreement; probe broadcasts are not sent yet.

import { createActor, createMachine } from 'xstate';
import type { TopologyName } from './advisor.ts';

/** A switch message between nodes. */
export type SwitchMessage =
  | { op: 'prepare'; id: string; to: TopologyName; participants: string[]; timeoutMs: number }
  | { op: 'ready'; id: string; ok: boolean; why?: string }
  | { op: 'join'; id: string; participants: string[]; timeoutMs: number }
  | { op: 'prepared'; id: string; ok: boolean; why?: string }
  | { op: 'commit'; id: string }
  | { op: 'abort'; id: string };

/** What the switch needs from its node. */
export interface SwitchHost {
  readonly name: string;
  now(): number;
  setTimer(ms: number, fn: () => void): unknown;
  clearTimer(timer: unknown): void;
  /** Nodes connected now. */
  nodes(): string[];
  current(): TopologyName;
  send(node: string, message: SwitchMessage): void;
  /** Starts the new overlay beside the current one (listening, not yet joining). */
  prepare(to: TopologyName, participants: string[]): Promise<{ ok: boolean; why?: string }>;
  /** Joins the new overlay to the others; resolves once it lists all `participants` within `timeoutMs`. */
  join(participants: string[], timeoutMs: number): Promise<{ ok: boolean; why?: string }>;
  commit(): void;
  abort(): Promise<void>;
}

export interface SwitchOptions {
  /** How long nodes have to bring the new overlay up and agree on membership (default 10,000 ms). */
  verifyTimeoutMs?: number;
  /** Automatic switches no closer than this (default 5 minutes). */
  cooldownMs?: number;
}

export type SwitchResult = { ok: true; from: TopologyName; to: TopologyName; ms: number } | { ok: false; error: 'already_current' | 'cooldown_active' | 'verification_failed' | 'unknown_topology' | 'switch_in_progress'; why: string };

export interface SwitchRecord {
  time: number;
  from: TopologyName;
  to: TopologyName;
  reason: string;
}

const TOPOLOGIES: readonly TopologyName[] = ['fullMesh', 'hyparview', 'clientServer', 'static', 'pubSub'];

/** The asker's side, one switch at a time, as an xstate machine. */
const switchMachine = createMachine({
  id: 'topology-switch',
  initial: 'stable',
  states: {
    stable: { on: { SWITCH: 'announcing' } },
    announcing: { on: { ANNOUNCED: 'migrating' } },
    migrating: { on: { ALL_PREPARED: 'verifying', FAILED: 'rollingBack', TIMEOUT: 'rollingBack' } },
    verifying: { on: { VERIFIED: 'committing', FAILED: 'rollingBack' } },
    committing: { on: { DONE: 'stable' } },
    rollingBack: { on: { DONE: 'stable' } },
  },
});

export type SwitchState = 'stable' | 'announcing' | 'migrating' | 'verifying' | 'committing' | 'rollingBack';

export class TopologySwitcher {
  readonly history: SwitchRecord[] = [];
  #lastSwitchAt = Number.NEGATIVE_INFINITY;
  readonly #actor = createActor(switchMachine);
  /** The switch this node follows as a participant (asked by another node or by itself). */
  #following: { id: string; timer: unknown } | null = null;
  /** The switch this node asks for: answers by node. */
  #asking: { id: string; ready: Set<string>; answers: Map<string, { ok: boolean; why?: string }>; participants: string[]; timeoutMs: number; done: (r: { ok: boolean; why: string }) => void } | null = null;
  #nextId = 1;

  constructor(
    readonly host: SwitchHost,
    readonly options: SwitchOptions = {},
  ) {
    this.#actor.start();
  }

  /** Where the asker's machine is. */
  get state(): SwitchState {
    return this.#actor.getSnapshot().value as SwitchState;
  }

  get lastSwitchAt(): number {
    return this.#lastSwitchAt;
  }

  /** Switches every connected node to `to`; `auto` switches respect the cooldown. */
  async switchTo(to: TopologyName, reason = 'manual', auto = false): Promise<SwitchResult> {
    const from = this.host.current();
    if (!TOPOLOGIES.includes(to)) return { ok: false, error: 'unknown_topology', why: `unknown topology '${to}' (one of ${TOPOLOGIES.join(', ')})` };
    if (to === from) return { ok: false, error: 'already_current', why: `the cluster already runs ${to}` };
    if (this.state !== 'stable' || this.#following !== null) return { ok: false, error: 'switch_in_progress', why: 'a switch is under way' };
    const cooldown = this.options.cooldownMs ?? 300_000;
    if (auto && this.host.now() - this.#lastSwitchAt < cooldown) return { ok: false, error: 'cooldown_active', why: `the last switch was less than ${String(cooldown)} ms ago` };
    const started = this.host.now();
    const id = `${this.host.name}:${String(this.#nextId++)}`;
    const participants = [this.host.name, ...this.host.nodes()].sort();
    const timeoutMs = this.options.verifyTimeoutMs ?? 10_000;
    this.#actor.send({ type: 'SWITCH' });
    const outcome = await new Promise<{ ok: boolean; why: string }>((resolve) => {
      this.#asking = { id, ready: new Set(), answers: new Map(), participants, timeoutMs, done: resolve };
      for (const n of participants) this.#deliver(n, { op: 'prepare', id, to, participants, timeoutMs });
      this.#actor.send({ type: 'ANNOUNCED' });
      // Everyone had the time to answer; a missing answer is a failure.
      this.host.setTimer(timeoutMs + 2_000, () => {
        if (this.#asking?.id !== id) return;
        this.#actor.send({ type: 'TIMEOUT' });
        resolve({ ok: false, why: `no answer from ${participants.filter((p) => !this.#asking?.answers.has(p)).join(', ')}` });
      });
    });
    this.#asking = null;
    if (outcome.ok) {
      this.#actor.send({ type: 'VERIFIED' });
      for (const n of participants) this.#deliver(n, { op: 'commit', id });
      this.#actor.send({ type: 'DONE' });
      this.#lastSwitchAt = this.host.now();
      this.history.push({ time: this.#lastSwitchAt, from, to, reason });
      return { ok: true, from, to, ms: this.host.now() - started };
    }
    for (const n of participants) this.#deliver(n, { op: 'abort', id });
    this.#actor.send({ type: 'DONE' });
    return { ok: false, error: 'verification_failed', why: outcome.why };
  }

  /** A switch message from `from` (or this node). */
  receive(from: string, m: SwitchMessage): void {
    switch (m.op) {
      case 'prepare':
        void this.#prepare(from, m);
        return;
      case 'ready': {
        // Every node listens on the new overlay's tags before any joins it: a join sent to a node
        // that has not started the new overlay yet would be dropped.
        const asking = this.#asking;
        if (asking?.id !== m.id) return;
        if (!m.ok) {
          this.#actor.send({ type: 'FAILED' });
          asking.done({ ok: false, why: `${from}: ${m.why ?? 'could not start the new overlay'}` });
          return;
        }
        asking.ready.add(from);
        if (asking.participants.every((p) => asking.ready.has(p))) {
          for (const n of asking.participants) this.#deliver(n, { op: 'join', id: m.id, participants: asking.participants, timeoutMs: asking.timeoutMs });
        }
        return;
      }
      case 'join':
        if (this.#following?.id !== m.id) return;
        void this.host.join(m.participants, m.timeoutMs).then(
          (result) => {
            this.#deliver(from, { op: 'prepared', id: m.id, ...result });
          },
          (err: unknown) => {
            this.#deliver(from, { op: 'prepared', id: m.id, ok: false, why: err instanceof Error ? err.message : String(err) });
          },
        );
        return;
      case 'prepared': {
        const asking = this.#asking;
        if (asking?.id !== m.id) return;
        asking.answers.set(from, { ok: m.ok, ...(m.why === undefined ? {} : { why: m.why }) });
        if (!m.ok) {
          this.#actor.send({ type: 'FAILED' });
          asking.done({ ok: false, why: `${from}: ${m.why ?? 'failed'}` });
          return;
        }
        if (asking.participants.every((p) => asking.answers.get(p)?.ok === true)) {
          this.#actor.send({ type: 'ALL_PREPARED' });
          asking.done({ ok: true, why: 'membership agreed everywhere' });
        }
        return;
      }
      case 'commit':
        if (this.#following?.id !== m.id) return;
        this.host.clearTimer(this.#following.timer);
        this.#following = null;
        this.host.commit();
        if (from !== this.host.name) {
          this.#lastSwitchAt = this.host.now();
        }
        return;
      case 'abort':
        if (this.#following?.id !== m.id) return;
        this.host.clearTimer(this.#following.timer);
        this.#following = null;
        void this.host.abort();
        return;
    }
  }

  async #prepare(from: string, m: Extract<SwitchMessage, { op: 'prepare' }>): Promise<void> {
    if (this.#following !== null) {
      this.#deliver(from, { op: 'prepared', id: m.id, ok: false, why: `${this.host.name} is in another switch` });
      return;
    }
    // If the asker never says commit or abort, go back on our own.
    const timer = this.host.setTimer(m.timeoutMs * 2 + 5_000, () => {
      if (this.#following?.id !== m.id) return;
      this.#following = null;
      void this.host.abort();
    });
    this.#following = { id: m.id, timer };
    let result: { ok: boolean; why?: string };
    try {
      result = await this.host.prepare(m.to, m.participants);
    } catch (err) {
      result = { ok: false, why: err instanceof Error ? err.message : String(err) };
    }
    this.#deliver(from, { op: 'ready', id: m.id, ...result });
  }

  #deliver(node: string, m: SwitchMessage): void {
    if (node === this.host.name) this.receive(node, m);
    else this.host.send(node, m);
  }
}
