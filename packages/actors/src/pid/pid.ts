// Process identifiers and unique references: values that name a process or a request anywhere
// in a cluster, carrying the node's name and incarnation so a restarted node never inherits them.

/**
 * @internal What a pid reaches of its live local process: the runtime it belongs to (compared by
 * identity) and its mailbox. The process class lies above this module, so the pid knows only this.
 */
export interface LocalTarget {
  readonly rt: object;
  deliver(msg: unknown): void;
}

/**
 * A process identifier: node name, a per-node serial id, and the node's incarnation (one per
 * start of the node). Printed as `<node.42.1>`. Pids are ordered by {@link comparePids};
 * two pids naming the same process are `equals`, and a live local process has exactly one
 * `Pid` object, so pids work as `Map` keys.
 */
export class Pid {
  /** @internal The live local process this pid names, or null (dead, or on another node). */
  _proc: LocalTarget | null = null;

  constructor(
    /** Name of the node that spawned the process. */
    readonly node: string,
    /** Serial number of the process on its node. */
    readonly id: number,
    /** Incarnation of the node when it spawned the process. */
    readonly incarnation: number,
  ) {}

  /** True when `other` names the same process. */
  equals(other: unknown): boolean {
    return other === this || (other instanceof Pid && sameIdentity(this, other));
  }

  toString(): string {
    return `<${this.node}.${this.id}.${this.incarnation}>`;
  }

  toJSON(): string {
    return this.toString();
  }

  /** How `console.log` and crash reports show it (never its process's internals). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** A process registered under `name` on node `node` (resolved by the distribution layer). */
export interface RemoteName {
  readonly name: string;
  readonly node: string;
}

/** Total order on pids: by node name, then incarnation, then id. */
export function comparePids(a: Pid, b: Pid): number {
  if (a.node !== b.node) return a.node < b.node ? -1 : 1;
  if (a.incarnation !== b.incarnation) return a.incarnation - b.incarnation;
  return a.id - b.id;
}

/** True when `value` is a {@link Pid}. */
export function isPid(value: unknown): value is Pid {
  return value instanceof Pid;
}

/**
 * A unique reference (Erlang's `make_ref()`), created by `ctx.makeRef()` or `runtime.makeRef()`.
 * Unique across the cluster and across restarts of a node (it carries the incarnation).
 * Compare with `equals`: a reference that travelled to another node and back is a new object.
 */
export class Ref {
  constructor(
    readonly node: string,
    readonly id: number,
    readonly incarnation: number,
  ) {}

  equals(other: unknown): boolean {
    return other === this || (other instanceof Ref && sameIdentity(this, other));
  }

  toString(): string {
    return `#Ref<${this.node}.${this.id}.${this.incarnation}>`;
  }

  toJSON(): string {
    return this.toString();
  }

  /** How `console.log` and crash reports show it (never its process's internals). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** True when `value` is a {@link Ref}. */
export function isRef(value: unknown): value is Ref {
  return value instanceof Ref;
}

/** Pids and refs are identified by (node, incarnation, id). */
function sameIdentity(a: Pid | Ref, b: Pid | Ref): boolean {
  return a.id === b.id && a.node === b.node && a.incarnation === b.incarnation;
}
