// The cluster registry (OTP's `global`): names that stand for one process anywhere in the
// cluster. Each node is the authority for the names of its own processes: it announces them to
// every node it is connected to, withdraws them when the process exits, and hands them all to a
// node that comes up. Names of a lost node's processes are dropped everywhere.
//
// Conflicts: two nodes can register the same name while they cannot see each other (a partition,
// or simply at the same instant). When the registrations meet, every node keeps the one whose pid
// is lowest (node name, then incarnation, then id), so all nodes agree without talking further;
// the losing process stays alive, loses the name, and gets `{ type: 'global_name_conflict',
// name, winner }` (OTP's `notify_all_name` resolver, without killing anyone).

import { comparePids, isDownMessage, Pid } from '@fdn/actors';
import type { Runtime } from '@fdn/actors';

/** Sent to a process that lost its global name to another registration of the same name. */
export interface GlobalNameConflict {
  type: 'global_name_conflict';
  name: string;
  winner: Pid;
}

/** What the registry needs from its node. */
export interface GlobalRegistryHost {
  readonly runtime: Runtime;
  /** The nodes connected now. */
  nodes(): string[];
  /** Sends a registry message to a node. */
  sendRegistry(node: string, message: RegistryMessage): void;
}

/** [1, name, pid]: registered; [2, name, pid]: gone; [3, [[name, pid], …]]: all of the sender's names. */
export type RegistryMessage = [1, string, Pid] | [2, string, Pid] | [3, [string, Pid][]];

export class GlobalRegistry {
  readonly #names = new Map<string, Pid>();
  /** The process that monitors this node's registered processes (their exit frees the name). */
  readonly #watcher: Pid;

  constructor(readonly host: GlobalRegistryHost) {
    const rt = host.runtime;
    this.#watcher = rt.spawn(
      async (ctx) => {
        for (;;) {
          const m = await ctx.receive();
          if (isDownMessage(m)) this.#localExit(m.pid);
          else if (m instanceof Pid) ctx.monitor(m);
        }
      },
      { label: 'fdn.global_registry' },
    );
  }

  /**
   * Registers a live local process under `name` cluster-wide. False if this node already knows
   * the name (here or elsewhere), like `global:register_name` answering `no`.
   */
  register(name: string, pid: Pid): boolean {
    if (typeof name !== 'string' || name === '') throw new TypeError('a global name must be a non-empty string');
    if (pid.node !== this.host.runtime.node || !this.host.runtime.isAlive(pid)) return false;
    if (this.#names.has(name)) return false;
    this.#names.set(name, pid);
    this.host.runtime.send(this.#watcher, pid);
    for (const node of this.host.nodes()) this.host.sendRegistry(node, [1, name, pid]);
    return true;
  }

  /** Removes `name` if it names a local process. */
  unregister(name: string): void {
    const pid = this.#names.get(name);
    if (pid?.node !== this.host.runtime.node) return;
    this.#names.delete(name);
    for (const node of this.host.nodes()) this.host.sendRegistry(node, [2, name, pid]);
  }

  whereis(name: string): Pid | undefined {
    return this.#names.get(name);
  }

  /** Every global name, sorted. */
  names(): string[] {
    return [...this.#names.keys()].sort();
  }

  /** A node came up: it gets every name of this node's processes. */
  nodeUp(node: string): void {
    const mine: [string, Pid][] = [];
    for (const [name, pid] of this.#names) if (pid.node === this.host.runtime.node) mine.push([name, pid]);
    if (mine.length > 0) this.host.sendRegistry(node, [3, mine]);
  }

  /** A node was lost: its processes' names go. */
  nodeDown(node: string): void {
    for (const [name, pid] of this.#names) if (pid.node === node) this.#names.delete(name);
  }

  /** A registry message from `from` (which speaks only for its own processes). */
  receive(from: string, m: unknown): void {
    if (!Array.isArray(m)) return;
    switch (m[0]) {
      case 1:
        if (typeof m[1] === 'string' && m[2] instanceof Pid && m[2].node === from) this.#learn(m[1], m[2]);
        return;
      case 2:
        if (typeof m[1] === 'string' && m[2] instanceof Pid && this.#names.get(m[1])?.equals(m[2]) === true) this.#names.delete(m[1]);
        return;
      case 3:
        if (!Array.isArray(m[1])) return;
        for (const entry of m[1] as unknown[]) {
          if (Array.isArray(entry) && typeof entry[0] === 'string' && entry[1] instanceof Pid && entry[1].node === from) this.#learn(entry[0], entry[1]);
        }
        return;
    }
  }

  /** Another node registered `name` for `pid`: take it, or settle a conflict (the lowest pid wins). */
  #learn(name: string, pid: Pid): void {
    const current = this.#names.get(name);
    if (current === undefined) {
      this.#names.set(name, pid);
      return;
    }
    if (current.equals(pid)) return;
    const [winner, loser] = comparePids(current, pid) <= 0 ? [current, pid] : [pid, current];
    this.#names.set(name, winner);
    if (loser.node === this.host.runtime.node) {
      this.host.runtime.send(loser, { type: 'global_name_conflict', name, winner } satisfies GlobalNameConflict);
    }
  }

  #localExit(pid: Pid): void {
    for (const [name, p] of this.#names) if (p.equals(pid)) this.unregister(name);
  }
}
