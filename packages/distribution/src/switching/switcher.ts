// Switching a running cluster's overlay. The node that asks runs the switch as an xstate machine —
// stable → announcing → migrating → verifying → committing → stable, or rolling back — and every
// node follows:
//   prepare   each node brings the new overlay up beside the old one on the same connections (the other
//             protocol tags) and answers `ready`; once all have, the asker says
//   join      each joins the new overlay, waits until it lists every live participant, pings a
//             sample of them over it, and answers `prepared`;
//   probe     the asker floods a probe over the new overlay's neighbour connections; every node that gets
//             it answers `probed` (the broadcast reaches all, and how fast);
//   commit    each makes the new overlay its own and detaches the old one — or on `abort`, any
//             failure or a timeout, detaches the new one.
// Connections stay up throughout, so at-least-once traffic is neither lost nor doubled.
//
// Churn: a participant that goes down during a switch is excused (the switch goes on among the
// live ones). Every committed switch raises the cluster's topology epoch; nodes tell each other
// their epoch when a connection comes up, after a commit, and when a follower gave up waiting, and a node
// behind adopts the newer overlay. So a node that joins during or after a switch, or missed the
// commit because its asker died, ends on the cluster's overlay.

import { createActor, createMachine } from 'xstate';
import type { PeerSpec } from '@fdn/topology';
import { TOPOLOGIES } from './topologies.ts';
import type { TopologyName } from './topologies.ts';
import { inSpan } from '../trace/spans.ts';

/** Which overlay a node runs and how new that is: what nodes compare to converge. */
export interface TopologyEpoch {
  /** Committed switches behind this overlay (0: the configured one). */
  epoch: number;
  /** The switch that made it ('' for the configured one); breaks ties between equal epochs. */
  switchId: string;
  topology: TopologyName;
  /** The protocol tags the overlay speaks. */
  tags: 'primary' | 'alternate';
  /** The servers of a client-server overlay. */
  servers: string[];
}

/** A switch message between nodes. */
export type SwitchMessage =
  | { op: 'prepare'; id: string; to: TopologyName; participants: string[]; timeoutMs: number; reason: string }
  | { op: 'ready'; id: string; ok: boolean; why?: string }
  | { op: 'join'; id: string; participants: string[]; timeoutMs: number }
  | { op: 'prepared'; id: string; ok: boolean; why?: string; pingMs?: number }
  | { op: 'probe'; id: string; origin: string; over: 'new' | 'current' }
  | { op: 'probed'; id: string }
  | { op: 'ping'; id: string; seq: number }
  | { op: 'pong'; id: string; seq: number }
  | { op: 'commit'; id: string; epoch: number; excused: string[] }
  | { op: 'abort'; id: string }
  | ({ op: 'epoch'; ask: boolean; contacts?: PeerSpec[] } & TopologyEpoch);

/** What the switch needs from its node. */
export interface SwitchHost {
  readonly name: string;
  now(): number;
  setTimer(ms: number, fn: () => void): unknown;
  clearTimer(timer: unknown): void;
  /** Up to `count` of `items`, chosen at random. */
  sample(items: readonly string[], count: number): string[];
  /** An id unique across nodes and restarts (switches and probes are named by one). */
  uniqueId(): string;
  /** Nodes connected now. */
  nodes(): string[];
  /** Whether `node` is up on the current overlay (a participant that is not is excused). */
  isUp(node: string): boolean;
  /** The node's overlay, with how to reach a client-server overlay's servers (for a node that adopts it). */
  current(): TopologyEpoch & { contacts?: PeerSpec[] };
  /** Sends over the distribution connections (control traffic of the switch). */
  send(node: string, message: SwitchMessage): void;
  /** Sends over the new overlay, or the current one when no switch is under way (their routes are what pings and probes test). */
  sendOver(overlay: 'new' | 'current', node: string, message: SwitchMessage): void;
  /** The neighbours of the new overlay (or the current one). */
  neighbors(overlay: 'new' | 'current'): string[];
  /** Starts the new overlay beside the current one (listening, not yet joining). */
  prepare(to: TopologyName, participants: string[]): Promise<{ ok: boolean; why?: string }>;
  /** Joins the new overlay; resolves once it lists every live participant, or fails after `timeoutMs`. */
  join(participants: string[], timeoutMs: number): Promise<{ ok: boolean; why?: string }>;
  /** Makes the new overlay the node's; `excused` participants went down during the switch. */
  commit(epoch: number, switchId: string, excused: string[]): void;
  abort(): Promise<void>;
  /** A node told its epoch and overlay, and how to reach its servers (answer `ask`s with `current()`; adopt a newer one). */
  epoch(from: string, info: TopologyEpoch & { contacts?: PeerSpec[] }): void;
}

/** How topology switches run (the node's `topology` option). */
export interface SwitchOptions {
  /** How long each phase has: bringing the new overlay up, agreeing on membership, the probe (default 10,000 ms). */
  verifyTimeoutMs?: number;
  /** Automatic switches no closer than this (default 5 minutes). */
  cooldownMs?: number;
  /** Participants each node pings over the new overlay before it says prepared (default 3). */
  pingSample?: number;
}

/** What verification measured. */
export interface SwitchVerification {
  participants: number;
  /** Participants that went down during the switch (not waited for). */
  excused: string[];
  /** Fraction of the live participants the probe broadcast reached. */
  probeReach: number;
  /** From the probe's start to the last `probed` answer (ms). */
  probeMs: number;
  /** Median round trip of the sample pings over the new overlay (ms), over all nodes. */
  pingP50Ms: number | null;
}

/** How a switch ended: `ok` with what verification measured, or an error code and why. */
export type SwitchResult =
  | { ok: true; from: TopologyName; to: TopologyName; ms: number; verification: SwitchVerification }
  | { ok: false; error: 'already_current' | 'cooldown_active' | 'verification_failed' | 'unknown_topology' | 'switch_in_progress'; why: string };

/** One switch in a node's history: when, from what to what, why, and how long it took. */
export interface SwitchRecord {
  time: number;
  from: TopologyName;
  to: TopologyName;
  reason: string;
  /** How long the switch took here (ms): from the announcement to the commit. */
  ms: number;
  /** What verification measured (on the node that asked for the switch). */
  verification?: SwitchVerification;
}

/** What a probe broadcast measured. */
export interface ProbeResult {
  /** Nodes that answered, of those expected. */
  reached: number;
  expected: number;
  reach: number;
  /** From the start to the last answer (ms); the answers travel back directly, so this bounds the broadcast's delay from above. */
  ms: number;
  missing: string[];
  at: number;
}


/** Orders epochs: the newer overlay wins; equal epochs (two partitions switched apart) by switch id. */
export function newerEpoch(a: TopologyEpoch, b: TopologyEpoch): boolean {
  return a.epoch !== b.epoch ? a.epoch > b.epoch : a.switchId > b.switchId;
}

const isString = (x: unknown): x is string => typeof x === 'string';
const isStrings = (x: unknown): x is string[] => Array.isArray(x) && x.every(isString);
const isNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** How to reach the servers of a client-server overlay, as the sender of an epoch knows them (bounded: it comes from a peer). */
const isContacts = (x: unknown): x is PeerSpec[] =>
  Array.isArray(x) && x.length <= 64 && x.every((c: unknown) => typeof c === 'object' && c !== null && isString((c as PeerSpec).name) && isStrings((c as PeerSpec).addresses) && (c as PeerSpec).addresses.length <= 16 && (c as PeerSpec).addresses.every((a) => a.length <= 256));

/** A switch message from the wire, checked field by field (null: malformed). */
export function parseSwitchMessage(x: unknown): SwitchMessage | null {
  if (typeof x !== 'object' || x === null) return null;
  const m = x as Record<string, unknown>;
  if (m.op !== 'epoch' && !isString(m.id)) return null;
  const optionalWhy = m.why === undefined || isString(m.why);
  switch (m.op) {
    case 'prepare':
      return TOPOLOGIES.includes(m.to as TopologyName) && isStrings(m.participants) && isNumber(m.timeoutMs) && isString(m.reason) ? (m as SwitchMessage) : null;
    case 'ready':
      return typeof m.ok === 'boolean' && optionalWhy ? (m as SwitchMessage) : null;
    case 'prepared':
      return typeof m.ok === 'boolean' && optionalWhy && (m.pingMs === undefined || isNumber(m.pingMs)) ? (m as SwitchMessage) : null;
    case 'join':
      return isStrings(m.participants) && isNumber(m.timeoutMs) ? (m as SwitchMessage) : null;
    case 'probe':
      return isString(m.origin) && (m.over === 'new' || m.over === 'current') ? (m as SwitchMessage) : null;
    case 'ping':
    case 'pong':
      return isNumber(m.seq) ? (m as SwitchMessage) : null;
    case 'commit':
      return isNumber(m.epoch) && isStrings(m.excused) ? (m as SwitchMessage) : null;
    case 'probed':
    case 'abort':
      return m as SwitchMessage;
    case 'epoch':
      return typeof m.ask === 'boolean' && isNumber(m.epoch) && isString(m.switchId) && TOPOLOGIES.includes(m.topology as TopologyName) && (m.tags === 'primary' || m.tags === 'alternate') && isStrings(m.servers) && (m.contacts === undefined || isContacts(m.contacts))
        ? (m as SwitchMessage)
        : null;
    default:
      return null;
  }
}

/** The asker's side, one switch at a time, as an xstate machine. */
const switchMachine = createMachine({
  id: 'topology-switch',
  initial: 'stable',
  states: {
    stable: { on: { SWITCH: 'announcing' } },
    announcing: { on: { ANNOUNCED: 'migrating' } },
    migrating: { on: { ALL_PREPARED: 'verifying', FAILED: 'rollingBack' } },
    verifying: { on: { VERIFIED: 'committing', FAILED: 'rollingBack' } },
    committing: { on: { DONE: 'stable' } },
    rollingBack: { on: { DONE: 'stable' } },
  },
});

/** Where the asking node's switch machine is. */
export type SwitchState = 'stable' | 'announcing' | 'migrating' | 'verifying' | 'committing' | 'rollingBack';

interface Asking {
  id: string;
  phase: 'ready' | 'prepared' | 'probed';
  participants: string[];
  timeoutMs: number;
  /** Who answered the current phase. */
  answered: Set<string>;
  pingMs: number[];
  excused: Set<string>;
  probeStartedAt: number;
  probeDoneAt: number;
  timer: unknown;
  done: (r: { ok: boolean; why: string }) => void;
}

/** One node's part in topology switching: the asker's machine and the follower's steps (see the file comment). */
export class TopologySwitcher {
  readonly history: SwitchRecord[] = [];
  #lastSwitchAt = Number.NEGATIVE_INFINITY;
  readonly #actor = createActor(switchMachine);
  /** The switch this node follows as a participant (asked by another node or by itself). */
  #following: { id: string; asker: string; timer: unknown; participants: string[]; probed: boolean; from: TopologyName; to: TopologyName; reason: string; since: number } | null = null;
  /** The switch this node asks for. */
  #asking: Asking | null = null;
  /** Sample pings waiting for their pong, by sequence number. */
  readonly #pings = new Map<number, () => void>();
  /** Probes this node sent outside switches, by id. */
  readonly #probes = new Map<string, { answered: Set<string>; expected: Set<string>; started: number; last: number; finish: () => void }>();
  /** Probes already passed on (a flood reaches a node many times). */
  readonly #seenProbes = new Set<string>();
  #nextPing = 1;

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

  /** True while this node asks for or follows a switch. */
  get busy(): boolean {
    return this.#asking !== null || this.#following !== null;
  }

  get lastSwitchAt(): number {
    return this.#lastSwitchAt;
  }

  /** Switches every connected node to `to`; `auto` switches respect the cooldown. Traced as `fdn.topology.switch`. */
  switchTo(to: TopologyName, reason = 'manual', auto = false): Promise<SwitchResult> {
    const attributes = { 'fdn.node': this.host.name, 'fdn.topology.from': this.host.current().topology, 'fdn.topology.to': to, 'fdn.topology.reason': reason };
    return inSpan('fdn.topology.switch', attributes, () => this.#switchTo(to, reason, auto), (r) => (r.ok ? null : `${r.error}: ${r.why}`));
  }

  async #switchTo(to: TopologyName, reason: string, auto: boolean): Promise<SwitchResult> {
    const from = this.host.current().topology;
    if (!TOPOLOGIES.includes(to)) return { ok: false, error: 'unknown_topology', why: `unknown topology '${to}' (one of ${TOPOLOGIES.join(', ')})` };
    if (to === from) return { ok: false, error: 'already_current', why: `the cluster already runs ${to}` };
    if (this.busy) return { ok: false, error: 'switch_in_progress', why: 'a switch is under way' };
    const cooldown = this.options.cooldownMs ?? 300_000;
    if (auto && this.host.now() - this.#lastSwitchAt < cooldown) return { ok: false, error: 'cooldown_active', why: `the last switch was less than ${String(cooldown)} ms ago` };
    const started = this.host.now();
    const id = this.host.uniqueId();
    const participants = [this.host.name, ...this.host.nodes()].sort();
    const timeoutMs = this.options.verifyTimeoutMs ?? 10_000;
    this.#actor.send({ type: 'SWITCH' });
    const asking: Asking = { id, phase: 'ready', participants, timeoutMs, answered: new Set(), pingMs: [], excused: new Set(), probeStartedAt: 0, probeDoneAt: 0, timer: null, done: () => undefined };
    const outcome = await new Promise<{ ok: boolean; why: string }>((resolve) => {
      asking.done = resolve;
      this.#asking = asking;
      this.#phaseTimer(asking);
      for (const n of participants) this.#deliver(n, { op: 'prepare', id, to, participants, timeoutMs, reason });
      this.#actor.send({ type: 'ANNOUNCED' });
    });
    this.host.clearTimer(asking.timer);
    this.#asking = null;
    if (outcome.ok) {
      this.#actor.send({ type: 'VERIFIED' });
      const epoch = this.host.current().epoch + 1;
      const excused = [...asking.excused].sort();
      for (const n of participants) if (!asking.excused.has(n)) this.#deliver(n, { op: 'commit', id, epoch, excused });
      this.#actor.send({ type: 'DONE' });
      this.#lastSwitchAt = this.host.now();
      const live = participants.length - asking.excused.size;
      const verification: SwitchVerification = {
        participants: participants.length,
        excused,
        probeReach: live === 0 ? 1 : asking.answered.size / live,
        probeMs: asking.probeDoneAt - asking.probeStartedAt,
        pingP50Ms: median(asking.pingMs),
      };
      const ms = this.host.now() - started;
      this.record({ time: this.#lastSwitchAt, from, to, reason, ms, verification });
      return { ok: true, from, to, ms, verification };
    }
    if (this.state !== 'rollingBack') this.#actor.send({ type: 'FAILED' });
    for (const n of participants) this.#deliver(n, { op: 'abort', id });
    this.#actor.send({ type: 'DONE' });
    return { ok: false, error: 'verification_failed', why: outcome.why };
  }

  /** Keeps the last 100 switches. */
  record(entry: SwitchRecord): void {
    this.history.push(entry);
    if (this.history.length > 100) this.history.shift();
  }

  /** A participant went down: the switch goes on without it. */
  nodeDown(node: string): void {
    const asking = this.#asking;
    if (asking === null || !asking.participants.includes(node) || node === this.host.name) return;
    asking.excused.add(node);
    this.#advance(asking);
  }

  /** A switch message from `from` (or this node). */
  receive(from: string, m: SwitchMessage): void {
    switch (m.op) {
      case 'prepare':
        void this.#prepare(from, m);
        return;
      case 'probed': {
        const probe = this.#probes.get(m.id);
        if (probe === undefined) {
          this.#answer(from, m);
          return;
        }
        probe.answered.add(from);
        probe.last = this.host.now();
        if ([...probe.expected].every((n) => probe.answered.has(n))) probe.finish();
        return;
      }
      case 'ready':
      case 'prepared':
        this.#answer(from, m);
        return;
      case 'join':
        if (this.#following?.id === m.id) void this.#join(m);
        return;
      case 'probe':
        this.#probe(from, m);
        return;
      case 'ping':
        this.host.sendOver('new', from, { op: 'pong', id: m.id, seq: m.seq });
        return;
      case 'pong': {
        const resolve = this.#pings.get(m.seq);
        this.#pings.delete(m.seq);
        resolve?.();
        return;
      }
      case 'commit': {
        const following = this.#following;
        if (following?.id !== m.id) return;
        this.host.clearTimer(following.timer);
        this.#following = null;
        this.host.commit(m.epoch, m.id, m.excused);
        // The asker records its switch with what verification measured.
        if (from === this.host.name) return;
        this.#lastSwitchAt = this.host.now();
        this.record({ time: this.#lastSwitchAt, from: following.from, to: following.to, reason: `${following.reason} (asked by ${from})`, ms: this.#lastSwitchAt - following.since });
        return;
      }
      case 'abort':
        if (this.#following?.id !== m.id) return;
        this.host.clearTimer(this.#following.timer);
        this.#following = null;
        void this.host.abort();
        return;
      case 'epoch': {
        const { op: _op, ask, ...info } = m;
        if (ask) this.host.send(from, { op: 'epoch', ask: false, ...this.host.current() });
        // A follower waits for its commit or abort; an asker's cluster is about to move anyway.
        if (!this.busy) this.host.epoch(from, info);
        return;
      }
    }
  }

  /** Answers of the current phase; the phase ends when every live participant answered. */
  #answer(from: string, m: Extract<SwitchMessage, { op: 'ready' | 'prepared' | 'probed' }>): void {
    const asking = this.#asking;
    if (asking?.id !== m.id) return;
    // The phases are named after the answer each waits for.
    if (asking.phase !== m.op) return;
    if (m.op !== 'probed' && !m.ok) {
      asking.done({ ok: false, why: `${from}: ${m.why ?? 'failed'}` });
      return;
    }
    if (m.op === 'prepared' && m.pingMs !== undefined) asking.pingMs.push(m.pingMs);
    asking.answered.add(from);
    if (m.op === 'probed') asking.probeDoneAt = this.host.now();
    this.#advance(asking);
  }

  #advance(asking: Asking): void {
    if (this.#asking !== asking) return;
    for (const p of asking.participants) {
      if (asking.answered.has(p) || asking.excused.has(p)) continue;
      if (p !== this.host.name && !this.host.isUp(p)) {
        asking.excused.add(p);
        continue;
      }
      return;
    }
    const live = asking.participants.filter((p) => !asking.excused.has(p));
    switch (asking.phase) {
      case 'ready':
        // Every node listens on the new overlay's tags before any joins it: a join sent to a node
        // that has not started the new overlay yet would be dropped.
        this.#nextPhase(asking, 'prepared');
        for (const n of live) this.#deliver(n, { op: 'join', id: asking.id, participants: live, timeoutMs: asking.timeoutMs });
        return;
      case 'prepared':
        this.#actor.send({ type: 'ALL_PREPARED' });
        this.#nextPhase(asking, 'probed');
        asking.probeStartedAt = this.host.now();
        asking.probeDoneAt = asking.probeStartedAt;
        this.#probe(this.host.name, { op: 'probe', id: asking.id, origin: this.host.name, over: 'new' });
        return;
      case 'probed':
        asking.done({ ok: true, why: 'membership agreed, pings answered, the probe reached every node' });
        return;
    }
  }

  #nextPhase(asking: Asking, phase: Asking['phase']): void {
    asking.phase = phase;
    asking.answered = new Set();
    this.host.clearTimer(asking.timer);
    this.#phaseTimer(asking);
  }

  /** Each phase has the timeout (plus slack for the messages); a missing answer fails the switch. */
  #phaseTimer(asking: Asking): void {
    const phase = asking.phase;
    asking.timer = this.host.setTimer(asking.timeoutMs + 2_000, () => {
      if (this.#asking !== asking || asking.phase !== phase) return;
      const missing = asking.participants.filter((p) => !asking.answered.has(p) && !asking.excused.has(p));
      const what = phase === 'probed' ? 'the probe broadcast did not reach' : `no ${phase} answer from`;
      asking.done({ ok: false, why: `${what} ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ` and ${String(missing.length - 10)} more` : ''} within ${String(asking.timeoutMs)} ms` });
    });
  }

  async #prepare(from: string, m: Extract<SwitchMessage, { op: 'prepare' }>): Promise<void> {
    if (this.#following !== null || (this.#asking !== null && this.#asking.id !== m.id)) {
      this.#deliver(from, { op: 'ready', id: m.id, ok: false, why: `${this.host.name} is in another switch` });
      return;
    }
    // If the asker never says commit or abort, go back on our own and ask the others what they
    // run: if they committed, this node adopts their overlay.
    const timer = this.host.setTimer(m.timeoutMs * 3 + 10_000, () => {
      if (this.#following?.id !== m.id) return;
      const participants = this.#following.participants;
      this.#following = null;
      void this.host.abort().then(() => {
        for (const p of participants) if (p !== this.host.name) this.host.send(p, { op: 'epoch', ask: true, ...this.host.current() });
      });
    });
    this.#following = { id: m.id, asker: from, timer, participants: m.participants, probed: false, from: this.host.current().topology, to: m.to, reason: m.reason, since: this.host.now() };
    let result: { ok: boolean; why?: string };
    try {
      result = await this.host.prepare(m.to, m.participants);
    } catch (err) {
      result = { ok: false, why: err instanceof Error ? err.message : String(err) };
    }
    this.#deliver(from, { op: 'ready', id: m.id, ...result });
  }

  async #join(m: Extract<SwitchMessage, { op: 'join' }>): Promise<void> {
    const following = this.#following;
    if (following === null) return;
    let result: { ok: boolean; why?: string; pingMs?: number };
    try {
      result = await this.host.join(m.participants, m.timeoutMs);
      if (result.ok) result = await this.#pingSample(m.id, m.participants, m.timeoutMs);
    } catch (err) {
      result = { ok: false, why: err instanceof Error ? err.message : String(err) };
    }
    if (this.#following !== following) return;
    this.#deliver(following.asker, { op: 'prepared', id: m.id, ...result });
  }

  /** Pings a few participants over the new overlay; a live one that does not answer fails the switch. */
  async #pingSample(id: string, participants: string[], timeoutMs: number): Promise<{ ok: boolean; why?: string; pingMs?: number }> {
    // Among the participants still up: one that died is not waited for.
    const others = participants.filter((p) => p !== this.host.name && this.host.isUp(p));
    const sample = this.host.sample(others, this.options.pingSample ?? 3);
    const times: number[] = [];
    const deadline = this.host.now() + Math.min(timeoutMs, 5_000);
    // One ping at a time per node, again every 500 ms until it answers: a route of the new
    // overlay may still be opening (a connection being dialled).
    const ping = (node: string): Promise<boolean> => {
      const seq = this.#nextPing++;
      const sentAt = this.host.now();
      return new Promise<boolean>((resolve) => {
        const timer = this.host.setTimer(Math.max(1, Math.min(500, deadline - sentAt)), () => {
          this.#pings.delete(seq);
          resolve(false);
        });
        this.#pings.set(seq, () => {
          this.host.clearTimer(timer);
          times.push(this.host.now() - sentAt);
          resolve(true);
        });
        this.host.sendOver('new', node, { op: 'ping', id, seq });
      });
    };
    const results = await Promise.all(
      sample.map(async (node) => {
        let answered = await ping(node);
        while (!answered && this.host.now() < deadline && this.#following?.id === id && this.host.isUp(node)) answered = await ping(node);
        return { node, answered };
      }),
    );
    const silent = results.filter((r) => !r.answered && this.host.isUp(r.node)).map((r) => r.node);
    if (silent.length > 0) return { ok: false, why: `${this.host.name}: no answer over the new overlay from ${silent.join(', ')}` };
    const p50 = median(times);
    return p50 === null ? { ok: true } : { ok: true, pingMs: p50 };
  }

  /**
   * Measures broadcast reach and delay on the current overlay: a probe flooded over its neighbour
   * connections, answered by every node it reaches. Resolves when all `expected` answered or after `timeoutMs`.
   */
  probe(expected: string[], timeoutMs: number): Promise<ProbeResult> {
    const id = `probe:${this.host.uniqueId()}`;
    const started = this.host.now();
    return new Promise((resolve) => {
      const probe = {
        answered: new Set<string>(),
        expected: new Set(expected.filter((n) => n !== this.host.name)),
        started,
        last: started,
        finish: () => {
          if (!this.#probes.delete(id)) return;
          this.host.clearTimer(timer);
          const missing = [...probe.expected].filter((n) => !probe.answered.has(n)).sort();
          const reached = probe.expected.size - missing.length;
          resolve({ reached, expected: probe.expected.size, reach: probe.expected.size === 0 ? 1 : reached / probe.expected.size, ms: probe.last - started, missing, at: started });
        },
      };
      const timer = this.host.setTimer(timeoutMs, () => {
        probe.finish();
      });
      this.#probes.set(id, probe);
      if (probe.expected.size === 0) probe.finish();
      else this.#probe(this.host.name, { op: 'probe', id, origin: this.host.name, over: 'current' });
    });
  }

  /** A probe: answered once, and passed on to the overlay's neighbours (a flood: it tests that they connect everyone). */
  #probe(from: string, m: Extract<SwitchMessage, { op: 'probe' }>): void {
    if (m.over === 'new') {
      const following = this.#following;
      if (following?.id !== m.id || following.probed) return;
      following.probed = true;
    } else {
      if (this.#seenProbes.has(m.id)) return;
      this.#seenProbes.add(m.id);
      // Bounded: probes are rare, and one seen long ago will not come back.
      if (this.#seenProbes.size > 256) this.#seenProbes.delete(this.#seenProbes.values().next().value as string);
    }
    for (const n of this.host.neighbors(m.over)) if (n !== from) this.host.sendOver(m.over, n, m);
    if (m.origin !== this.host.name) this.host.send(m.origin, { op: 'probed', id: m.id });
    else if (m.over === 'new') this.#answer(m.origin, { op: 'probed', id: m.id });
  }

  #deliver(node: string, m: SwitchMessage): void {
    if (node === this.host.name) this.receive(node, m);
    else this.host.send(node, m);
  }
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const sorted = xs.slice().sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}
