// Process groups across the cluster (OTP's `pg`): any process joins any group by name, a group's
// members are the processes that joined it on every node. As in `pg`, each node is the authority
// for its own processes' memberships: it tells the other nodes when one joins or leaves (or exits),
// and hands all of them to a node that comes up; a lost node's members drop out everywhere.
// A process may join a group several times and must leave as often (pg's counting).

import { Pid } from '@fdn/actors';
import type { RemoteEndpoint, Runtime } from '@fdn/actors';

/** Sent to processes that monitor a group when members join or leave it. */
export interface GroupEvent {
  type: 'pg_join' | 'pg_leave';
  group: string;
  pids: Pid[];
}

/** What process groups need from their node. */
export interface ProcessGroupsHost {
  readonly runtime: Runtime;
  /** Where the runtime meets other nodes (exits of local members are watched through it). */
  readonly endpoint: Pick<RemoteEndpoint, 'onExit'>;
  nodes(): string[];
  sendGroups(node: string, message: GroupsMessage): void;
  /** The same message to several nodes (encoded once). */
  broadcastGroups(nodes: Iterable<string>, message: GroupsMessage): void;
}

/** `[1, group, pids]`: joined; `[2, group, pids]`: left; `[3, [[group, pids], …]]`: all of the sender's memberships. */
export type GroupsMessage = [1, string, Pid[]] | [2, string, Pid[]] | [3, [string, Pid[]][]];

/** Longest group name (longer ones from a peer are ignored; locally, refused). */
const MAX_GROUP_NAME = 1_024;
/** Most memberships one node's processes can hold in this node's view. */
const MAX_PER_NODE = 100_000;

/** Process groups across the cluster (OTP's `pg`): counted joins, members leave at exit, node loss handled. */
export class ProcessGroups {
  /** group → member pid (string form) → [pid, count]. */
  readonly #groups = new Map<string, Map<string, [Pid, number]>>();
  /** Memberships (group, pid) held per node: a peer cannot make this node hold more than MAX_PER_NODE of them. */
  readonly #perNode = new Map<string, number>();
  /** group → local processes watching it. */
  readonly #watchers = new Map<string, Set<Pid>>();

  constructor(readonly host: ProcessGroupsHost) {}

  /** Adds the live local process `pid` to `group` (once more, if it is a member already). */
  join(group: string, pid: Pid): void {
    if (typeof group !== 'string' || group === '' || group.length > MAX_GROUP_NAME) throw new TypeError(`a group name is a non-empty string of at most ${String(MAX_GROUP_NAME)} characters`);
    if (pid.node !== this.host.runtime.node) throw new TypeError(`only local processes join groups here; ${pid.toString()} is on ${pid.node}`);
    if (!this.host.runtime.isAlive(pid)) return;
    // A member leaves every group the moment it exits (as with the global registry's names).
    if (!this.#isLocalMember(pid)) this.host.endpoint.onExit(pid, () => {
      this.#localExit(pid);
    });
    if (this.#add(group, pid, 1)) this.#broadcast([1, group, [pid]]);
  }

  /** Removes one join of `pid` from `group`; false if it was not a member. */
  leave(group: string, pid: Pid): boolean {
    const entry = this.#groups.get(group)?.get(pid.toString());
    if (entry === undefined || pid.node !== this.host.runtime.node) return false;
    if (this.#remove(group, pid, 1)) this.#broadcast([2, group, [pid]]);
    return true;
  }

  /** The members of `group` on every node (a pid joined twice is listed twice, as in pg). */
  members(group: string): Pid[] {
    const out: Pid[] = [];
    for (const [pid, count] of this.#groups.get(group)?.values() ?? []) for (let i = 0; i < count; i++) out.push(pid);
    return out;
  }

  /** The members of `group` on this node. */
  localMembers(group: string): Pid[] {
    return this.members(group).filter((p) => p.node === this.host.runtime.node);
  }

  /** Groups with at least one member, sorted. */
  groups(): string[] {
    return [...this.#groups.keys()].sort();
  }

  /** `watcher` (a local process) gets a {@link GroupEvent} whenever members join or leave `group`; returns the current members. */
  monitor(group: string, watcher: Pid): Pid[] {
    let set = this.#watchers.get(group);
    if (set === undefined) this.#watchers.set(group, (set = new Set()));
    set.add(watcher);
    return this.members(group);
  }

  demonitor(group: string, watcher: Pid): void {
    this.#watchers.get(group)?.delete(watcher);
  }

  nodeUp(node: string): void {
    const mine: [string, Pid[]][] = [];
    for (const group of this.#groups.keys()) {
      const local = this.localMembers(group);
      if (local.length > 0) mine.push([group, local]);
    }
    if (mine.length > 0) this.host.sendGroups(node, [3, mine]);
  }

  nodeDown(node: string): void {
    for (const [group, members] of this.#groups) {
      const gone: Pid[] = [];
      for (const [key, [pid, count]] of members) {
        if (pid.node !== node) continue;
        members.delete(key);
        this.#count(node, -1);
        for (let i = 0; i < count; i++) gone.push(pid);
      }
      if (members.size === 0) this.#groups.delete(group);
      if (gone.length > 0) this.#notify(group, 'pg_leave', gone);
    }
  }

  receive(from: string, m: unknown): void {
    if (!Array.isArray(m)) return;
    if (typeof m[1] === 'string' && m[1].length > MAX_GROUP_NAME) return;
    const pidsOf = (x: unknown): Pid[] => (Array.isArray(x) ? x.filter((p): p is Pid => p instanceof Pid && p.node === from) : []);
    switch (m[0]) {
      case 1:
        if (typeof m[1] === 'string') for (const pid of pidsOf(m[2])) this.#add(m[1], pid, 1);
        return;
      case 2:
        if (typeof m[1] === 'string') for (const pid of pidsOf(m[2])) this.#remove(m[1], pid, 1);
        return;
      case 3:
        if (!Array.isArray(m[1])) return;
        for (const entry of m[1] as unknown[]) {
          if (!Array.isArray(entry) || typeof entry[0] !== 'string' || entry[0].length > MAX_GROUP_NAME) continue;
          const group = entry[0];
          // A full list replaces what we knew of the sender's members in that group.
          for (const [key, [pid]] of this.#groups.get(group) ?? []) {
            if (pid.node !== from) continue;
            this.#groups.get(group)?.delete(key);
            this.#count(from, -1);
          }
          for (const pid of pidsOf(entry[1])) this.#add(group, pid, 1);
        }
        return;
    }
  }

  /** Adds `count` joins; true if it changed the members. */
  #add(group: string, pid: Pid, count: number): boolean {
    let members = this.#groups.get(group);
    if (members === undefined) this.#groups.set(group, (members = new Map<string, [Pid, number]>()));
    const key = pid.toString();
    const entry = members.get(key);
    if (entry === undefined) {
      if ((this.#perNode.get(pid.node) ?? 0) >= MAX_PER_NODE) {
        if (members.size === 0) this.#groups.delete(group);
        return false;
      }
      members.set(key, [pid, count]);
      this.#count(pid.node, 1);
    } else entry[1] += count;
    this.#notify(group, 'pg_join', [pid]);
    return true;
  }

  #remove(group: string, pid: Pid, count: number): boolean {
    const members = this.#groups.get(group);
    const key = pid.toString();
    const entry = members?.get(key);
    if (members === undefined || entry === undefined) return false;
    entry[1] -= count;
    if (entry[1] <= 0) {
      members.delete(key);
      this.#count(pid.node, -1);
    }
    if (members.size === 0) this.#groups.delete(group);
    this.#notify(group, 'pg_leave', [pid]);
    return true;
  }

  #count(node: string, delta: number): void {
    const n = (this.#perNode.get(node) ?? 0) + delta;
    if (n <= 0) this.#perNode.delete(node);
    else this.#perNode.set(node, n);
  }

  #isLocalMember(pid: Pid): boolean {
    for (const members of this.#groups.values()) if (members.has(pid.toString())) return true;
    return false;
  }

  /** A local member exited: it leaves every group, everywhere. */
  #localExit(pid: Pid): void {
    for (const [group, members] of [...this.#groups]) {
      const entry = members.get(pid.toString());
      if (entry === undefined) continue;
      const count = entry[1];
      this.#remove(group, pid, count);
      this.#broadcast([2, group, Array.from({ length: count }, () => pid)]);
    }
    for (const set of this.#watchers.values()) set.delete(pid);
  }

  #broadcast(m: GroupsMessage): void {
    this.host.broadcastGroups(this.host.nodes(), m);
  }

  #notify(group: string, type: GroupEvent['type'], pids: Pid[]): void {
    const watchers = this.#watchers.get(group);
    if (watchers === undefined) return;
    for (const w of watchers) {
      if (this.host.runtime.isAlive(w)) this.host.runtime.send(w, { type, group, pids } satisfies GroupEvent);
      else watchers.delete(w);
    }
  }
}
