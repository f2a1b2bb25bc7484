// The cluster registry (OTP's `global`): names that stand for one process anywhere in the
// cluster. Each node is the authority for the names of its own processes: it announces them to
// every node it is connected to, withdraws them the instant the process exits (synchronously, so
// a supervisor restarting it finds the name free, as OTP's `global` frees a name on its node), and
// hands them all to a node that comes up. Names of a lost node's processes are dropped everywhere.
//
// Registering claims the name on every connected node first, so two nodes registering one name
// at the same moment never both succeed (OTP's `global` takes a cluster-wide lock for the same
// reason). Each node reserves the name for the first claim it sees; a later claim with a lower pid
// waits for that reservation to end, one with a higher pid is refused at once (wait-die: no
// deadlock, and the lowest pid among simultaneous claims wins unless another already holds every
// node). A claim that every node granted commits with the usual announcement.
//
// Registrations that never met (a partition) are settled when they do: every node keeps the
// one whose pid is lowest, and the losing process stays alive, loses the name and gets
// `{ type: 'global_name_conflict', name, winner }` (OTP's `notify_all_name` resolver).

import { comparePids, Pid } from '@fdn/actors';
import type { RemoteEndpoint, Runtime } from '@fdn/actors';
import type { Clock, Logger } from '@fdn/core';
import { DistributionError, DistributionErrorCode } from '../errors/errors.ts';

/** Sent to a process that lost its global name to another registration of the same name. */
export interface GlobalNameConflict {
  type: 'global_name_conflict';
  name: string;
  winner: Pid;
}

/** What the registry needs from its node. */
export interface GlobalRegistryHost {
  readonly runtime: Runtime;
  /** Where the runtime meets other nodes (exits of named processes are watched through it). */
  readonly endpoint: Pick<RemoteEndpoint, 'onExit'>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The nodes connected now. */
  nodes(): string[];
  /** Sends a registry message to a node. */
  sendRegistry(node: string, message: RegistryMessage): void;
  /** The same message to several nodes (encoded once). */
  broadcastRegistry(nodes: Iterable<string>, message: RegistryMessage): void;
}

/**
 * [1, name, pid]: registered; [2, name, pid]: gone; [3, [[name, pid], …]]: all of the sender's
 * names; [4, claim, name, pid]: reserve `name` for `pid`; [5, claim, granted, holder]: the answer;
 * [6, name, pid]: release a reservation (the claim failed); [7, name, pid]: registration [1] seen.
 */
export type RegistryMessage =
  | [1, string, Pid]
  | [2, string, Pid]
  | [3, [string, Pid][]]
  | [4, number, string, Pid]
  | [5, number, boolean, Pid | null]
  | [6, string, Pid]
  | [7, string, Pid];

/** A claim this node makes for one of its processes. */
interface Claim {
  name: string;
  pid: Pid;
  /** Nodes that have not answered yet. */
  waiting: Set<string>;
  /** Nodes that granted (they hold a reservation to release if the claim fails). */
  granted: Set<string>;
  /** After the commit: nodes that have not confirmed the registration yet. */
  confirming: Set<string> | null;
  resolve(ok: boolean): void;
  reject(err: Error): void;
  timer: ReturnType<Clock['setTimer']>;
}

/** A claim for a name this node has reserved for another pid, parked until that ends. */
interface Parked {
  from: string;
  id: number;
  pid: Pid;
}

interface Reservation {
  pid: Pid;
  /** Lapses if its claimant goes silent (its node lost without a nodedown here, say). */
  timer: ReturnType<Clock['setTimer']>;
  parked: Parked[];
}

/** Longest global name (longer ones from a peer are ignored; locally, refused). */
const MAX_NAME = 1_024;
/** Most names one node's processes can hold in this node's registry. */
const MAX_NAMES_PER_NODE = 100_000;
/** Most claims in flight at once (a peer flooding claims is refused, not remembered). */
const MAX_RESERVATIONS = 10_000;

/** Timings of the cluster registry. */
export interface GlobalRegistryOptions {
  /** A registration waits this long for every node's answer (default 5,000 ms). */
  claimTimeoutMs?: number;
}

/** The cluster registry (OTP's `global`): names claimed on every node first, freed at exit or node loss. */
export class GlobalRegistry {
  readonly #names = new Map<string, Pid>();
  /** Names held per node: a peer cannot make this node hold more than MAX_NAMES_PER_NODE of its names. */
  readonly #perNode = new Map<string, number>();
  /** Removers of the exit hooks of this node's registered processes, by name. */
  readonly #exitHooks = new Map<string, () => void>();
  readonly #reservations = new Map<string, Reservation>();
  readonly #claims = new Map<number, Claim>();
  #nextClaim = 1;
  readonly #claimTimeoutMs: number;

  constructor(
    readonly host: GlobalRegistryHost,
    options: GlobalRegistryOptions = {},
  ) {
    this.#claimTimeoutMs = options.claimTimeoutMs ?? 5_000;
  }

  /**
   * Registers a live local process under `name` cluster-wide. Resolves false if the name is
   * taken (here or elsewhere), or another node claimed it at the same moment and won; true once
   * every connected node has agreed. Rejects with FDN_ERR_REGISTRY_TIMEOUT if a connected node
   * does not answer within the claim timeout.
   */
  register(name: string, pid: Pid): Promise<boolean> {
    if (typeof name !== 'string' || name === '' || name.length > MAX_NAME) throw new DistributionError(DistributionErrorCode.BAD_ARGUMENT, `a global name is a non-empty string of at most ${String(MAX_NAME)} characters, got ${typeof name === 'string' ? `${String(name.length)} characters` : JSON.stringify(name)}`);
    const rt = this.host.runtime;
    if (pid.node !== rt.node || !rt.isAlive(pid)) return Promise.resolve(false);
    if (this.#names.has(name)) return Promise.resolve(false);
    return new Promise<boolean>((resolve, reject) => {
      const id = this.#nextClaim++;
      const others = this.host.nodes();
      const timer = this.host.clock.setTimer(this.#claimTimeoutMs, () => {
        const claim = this.#claims.get(id);
        if (claim === undefined) return;
        this.#fail(id, claim);
        claim.reject(new DistributionError(DistributionErrorCode.REGISTRY_TIMEOUT, `registering '${name}': ${[...claim.waiting].join(', ')} did not answer within ${String(this.#claimTimeoutMs)} ms; try again`));
      });
      const claim: Claim = { name, pid, waiting: new Set([rt.node, ...others]), granted: new Set(), confirming: null, resolve, reject, timer };
      this.#claims.set(id, claim);
      this.host.broadcastRegistry(others, [4, id, name, pid]);
      // This node answers its own claim like any other.
      this.#onClaim(rt.node, id, name, pid);
    });
  }

  /** Removes `name` if it names a local process. */
  unregister(name: string): void {
    const pid = this.#names.get(name);
    if (pid?.node !== this.host.runtime.node) return;
    this.#drop(name);
    this.#exitHooks.get(name)?.();
    this.#exitHooks.delete(name);
    this.host.broadcastRegistry(this.host.nodes(), [2, name, pid]);
  }

  whereis(name: string): Pid | undefined {
    return this.#names.get(name);
  }

  /** Every global name, sorted. */
  names(): string[] {
    return [...this.#names.keys()].sort();
  }

  /** Sets `name` (counting the names each node holds, which is bounded per node). */
  #put(name: string, pid: Pid): void {
    const previous = this.#names.get(name);
    if (previous !== undefined) this.#count(previous.node, -1);
    this.#names.set(name, pid);
    this.#count(pid.node, 1);
  }

  #drop(name: string): void {
    const previous = this.#names.get(name);
    if (previous === undefined) return;
    this.#names.delete(name);
    this.#count(previous.node, -1);
  }

  #count(node: string, delta: number): void {
    const n = (this.#perNode.get(node) ?? 0) + delta;
    if (n <= 0) this.#perNode.delete(node);
    else this.#perNode.set(node, n);
  }

  /** A node came up: it gets every name of this node's processes. */
  nodeUp(node: string): void {
    const mine: [string, Pid][] = [];
    for (const [name, pid] of this.#names) if (pid.node === this.host.runtime.node) mine.push([name, pid]);
    if (mine.length > 0) this.host.sendRegistry(node, [3, mine]);
  }

  /** A node was lost: its processes' names and reservations go, and nobody waits for its answer. */
  nodeDown(node: string): void {
    for (const [name, pid] of this.#names) if (pid.node === node) this.#drop(name);
    for (const [name, r] of this.#reservations) if (r.pid.node === node) this.#release(name, r.pid);
    for (const [id, claim] of this.#claims) {
      claim.granted.delete(node);
      if (claim.confirming?.delete(node) === true) this.#confirmed(id, claim);
      else if (claim.waiting.delete(node)) this.#settle(id, claim);
    }
  }

  /** A registry message from `from` (which speaks only for its own processes). */
  receive(from: string, m: unknown): void {
    if (!Array.isArray(m)) return;
    // Names longer than MAX_NAME are not names anyone registered here: a peer cannot make this node hold them.
    if (typeof m[1] === 'string' && m[1].length > MAX_NAME) return;
    if (typeof m[2] === 'string' && m[2].length > MAX_NAME) return;
    switch (m[0]) {
      case 1:
        if (typeof m[1] === 'string' && m[2] instanceof Pid && m[2].node === from) {
          this.#learn(m[1], m[2]);
          this.host.sendRegistry(from, [7, m[1], m[2]]);
        }
        return;
      case 2:
        if (typeof m[1] === 'string' && m[2] instanceof Pid && this.#names.get(m[1])?.equals(m[2]) === true) this.#drop(m[1]);
        return;
      case 3:
        if (!Array.isArray(m[1])) return;
        for (const entry of m[1] as unknown[]) {
          if (Array.isArray(entry) && typeof entry[0] === 'string' && entry[1] instanceof Pid && entry[1].node === from) this.#learn(entry[0], entry[1]);
        }
        return;
      case 4:
        if (Number.isInteger(m[1]) && typeof m[2] === 'string' && m[2] !== '' && m[3] instanceof Pid && m[3].node === from) this.#onClaim(from, m[1] as number, m[2], m[3]);
        return;
      case 5:
        if (Number.isInteger(m[1]) && typeof m[2] === 'boolean') this.#onAnswer(from, m[1] as number, m[2]);
        return;
      case 6:
        if (typeof m[1] === 'string' && m[2] instanceof Pid && m[2].node === from) this.#release(m[1], m[2]);
        return;
      case 7:
        if (typeof m[1] === 'string' && m[2] instanceof Pid) this.#onConfirm(from, m[1], m[2]);
        return;
    }
  }

  // ==== Claims ====

  /** `from` claims `name` for `pid`: grant, refuse, or park it (wait-die on pids). */
  #onClaim(from: string, id: number, name: string, pid: Pid): void {
    const holder = this.#names.get(name);
    if (holder !== undefined && !holder.equals(pid)) {
      this.#answer(from, id, false, holder);
      return;
    }
    const reserved = this.#reservations.get(name);
    if (reserved === undefined && this.#reservations.size >= MAX_RESERVATIONS) {
      this.#answer(from, id, false, null);
      return;
    }
    if (reserved === undefined || reserved.pid.equals(pid)) {
      if (reserved === undefined) this.#reserve(name, pid);
      this.#answer(from, id, true, null);
      return;
    }
    // Older (lower) pids wait for the reservation to end; younger ones die: no cycle of waits.
    if (comparePids(pid, reserved.pid) < 0) reserved.parked.push({ from, id, pid });
    else this.#answer(from, id, false, reserved.pid);
  }

  #reserve(name: string, pid: Pid): void {
    const timer = this.host.clock.setTimer(this.#claimTimeoutMs * 2, () => {
      this.#release(name, pid);
    });
    this.#reservations.set(name, { pid, timer, parked: [] });
  }

  /** The reservation of `name` for `pid` ends without a registration: the lowest parked claim gets it, the rest die. */
  #release(name: string, pid: Pid): void {
    const r = this.#reservations.get(name);
    if (r === undefined) return;
    if (!r.pid.equals(pid)) {
      // The claim was parked here, not granted: it must not be granted later.
      r.parked = r.parked.filter((p) => !p.pid.equals(pid));
      return;
    }
    this.#reservations.delete(name);
    this.host.clock.clearTimer(r.timer);
    if (r.parked.length === 0) return;
    r.parked.sort((x, y) => comparePids(x.pid, y.pid));
    const [first, ...rest] = r.parked as [Parked, ...Parked[]];
    this.#onClaim(first.from, first.id, name, first.pid);
    for (const p of rest) this.#onClaim(p.from, p.id, name, p.pid);
  }

  #answer(to: string, id: number, granted: boolean, holder: Pid | null): void {
    if (to === this.host.runtime.node) this.#onAnswer(to, id, granted);
    else this.host.sendRegistry(to, [5, id, granted, holder]);
  }

  #onAnswer(from: string, id: number, granted: boolean): void {
    const claim = this.#claims.get(id);
    // A late answer to a claim that already ended: its release is on its way to that node.
    if (!claim?.waiting.has(from)) return;
    claim.waiting.delete(from);
    if (!granted) {
      this.#fail(id, claim);
      claim.resolve(false);
      return;
    }
    claim.granted.add(from);
    this.#settle(id, claim);
  }

  /** Every node granted (or is gone): the name is this process's, if it still lives. */
  #settle(id: number, claim: Claim): void {
    if (claim.waiting.size > 0 || claim.confirming !== null) return;
    this.#claims.delete(id);
    this.host.clock.clearTimer(claim.timer);
    const rt = this.host.runtime;
    if (!rt.isAlive(claim.pid) || this.#names.has(claim.name)) {
      this.#releaseEverywhere(claim);
      claim.resolve(false);
      return;
    }
    this.#put(claim.name, claim.pid);
    this.#watch(claim.name, claim.pid);
    // The announcement also ends every node's reservation (see #learn). As with OTP's `global`,
    // `register` resolves once every connected node knows the name (or is gone, or the timeout).
    this.#endReservation(claim.name, claim.pid);
    const others = this.host.nodes();
    claim.confirming = new Set(others);
    this.#claims.set(id, claim);
    claim.timer = this.host.clock.setTimer(this.#claimTimeoutMs, () => {
      if (this.#claims.get(id) !== claim) return;
      this.host.logger.warn(`'${claim.name}' is registered, but ${[...(claim.confirming ?? [])].join(', ')} did not confirm within ${String(this.#claimTimeoutMs)} ms`);
      this.#claims.delete(id);
      claim.resolve(true);
    });
    this.host.broadcastRegistry(others, [1, claim.name, claim.pid]);
    this.#confirmed(id, claim);
  }

  #onConfirm(from: string, name: string, pid: Pid): void {
    for (const [id, claim] of this.#claims) {
      if (claim.confirming === null || claim.name !== name || !claim.pid.equals(pid)) continue;
      if (claim.confirming.delete(from)) this.#confirmed(id, claim);
    }
  }

  #confirmed(id: number, claim: Claim): void {
    if (claim.confirming === null || claim.confirming.size > 0) return;
    this.#claims.delete(id);
    this.host.clock.clearTimer(claim.timer);
    claim.resolve(true);
  }

  #fail(id: number, claim: Claim): void {
    this.#claims.delete(id);
    this.host.clock.clearTimer(claim.timer);
    this.#releaseEverywhere(claim);
  }

  #releaseEverywhere(claim: Claim): void {
    const self = this.host.runtime.node;
    if (claim.granted.has(self)) this.#release(claim.name, claim.pid);
    // Nodes that have not answered yet will grant later; a release on its way ends that too.
    this.host.broadcastRegistry([...claim.granted, ...claim.waiting].filter((node) => node !== self), [6, claim.name, claim.pid]);
    if (claim.waiting.has(this.host.runtime.node)) this.#release(claim.name, claim.pid);
  }

  /** A registration of `name` for `pid` was announced: its reservation ends, and parked claims are refused. */
  #endReservation(name: string, pid: Pid): void {
    const r = this.#reservations.get(name);
    if (r === undefined) return;
    this.#reservations.delete(name);
    this.host.clock.clearTimer(r.timer);
    for (const p of r.parked) this.#answer(p.from, p.id, false, pid);
  }

  // ==== Registrations ====

  /** Another node registered `name` for `pid`: take it, or settle a conflict (the lowest pid wins). */
  #learn(name: string, pid: Pid): void {
    this.#endReservation(name, pid);
    const current = this.#names.get(name);
    if (current === undefined && (this.#perNode.get(pid.node) ?? 0) >= MAX_NAMES_PER_NODE) {
      this.host.logger.warn(`${pid.node} holds ${String(MAX_NAMES_PER_NODE)} global names already: '${name}' is not recorded here`);
      return;
    }
    if (current === undefined) {
      this.#put(name, pid);
      return;
    }
    if (current.equals(pid)) return;
    const [winner, loser] = comparePids(current, pid) <= 0 ? [current, pid] : [pid, current];
    this.#put(name, winner);
    if (loser.node === this.host.runtime.node) {
      this.#exitHooks.get(name)?.();
      this.#exitHooks.delete(name);
      this.host.runtime.send(loser, { type: 'global_name_conflict', name, winner } satisfies GlobalNameConflict);
    }
  }

  /** The name goes the moment its process exits (before a supervisor can restart it). */
  #watch(name: string, pid: Pid): void {
    const remove = this.host.endpoint.onExit(pid, () => {
      this.#exitHooks.delete(name);
      if (this.#names.get(name)?.equals(pid) === true) this.unregister(name);
    });
    if (remove !== null) this.#exitHooks.set(name, remove);
  }
}
