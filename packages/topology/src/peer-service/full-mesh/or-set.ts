// An add-wins observed-remove set without tombstones (ORSWOT, as riak_dt_orswot): each element
// carries the dots (replica, counter) of the adds that created it; a version vector says which
// dots a replica has seen, so a removed element stays removed without keeping a tombstone.

import { createHash } from 'node:crypto';

/** The set as it travels between nodes (plain data, msgpack friendly). */
export interface OrSetState<V> {
  vv: Record<string, number>;
  entries: Record<string, { dots: Record<string, number>; value: V }>;
}

export class OrSet<V> {
  readonly #vv = new Map<string, number>();
  readonly #entries = new Map<string, { dots: Map<string, number>; value: V }>();
  /** The digest of the current contents (null: changed since it was computed). */
  #digest: string | null = null;

  /** Adds (or re-adds) `key` on behalf of `replica`. */
  add(replica: string, key: string, value: V): void {
    const counter = (this.#vv.get(replica) ?? 0) + 1;
    this.#vv.set(replica, counter);
    this.#digest = null;
    // The new dot covers every dot this replica observed for the element.
    this.#entries.set(key, { dots: new Map([[replica, counter]]), value });
  }

  /** Removes `key` (observed remove); returns whether it was present. */
  remove(key: string): boolean {
    this.#digest = null;
    return this.#entries.delete(key);
  }

  /**
   * A hash of the version vector and of every element's key and dots (values are fixed per key):
   * two replicas with equal digests hold the same set. Cached until the set changes.
   */
  digest(): string {
    if (this.#digest !== null) return this.#digest;
    const hash = createHash('sha256');
    for (const [replica, counter] of [...this.#vv].sort(byKey)) hash.update(`${replica}=${String(counter)};`);
    for (const [key, e] of [...this.#entries].sort(byKey)) {
      hash.update(`|${key}:`);
      for (const [replica, counter] of [...e.dots].sort(byKey)) hash.update(`${replica}=${String(counter)};`);
    }
    this.#digest = hash.digest('base64url').slice(0, 22);
    return this.#digest;
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  get(key: string): V | undefined {
    return this.#entries.get(key)?.value;
  }

  keys(): string[] {
    return [...this.#entries.keys()];
  }

  entries(): [string, V][] {
    return [...this.#entries].map(([k, e]) => [k, e.value]);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Merges another replica's state in; returns whether this set changed. */
  merge(other: OrSetState<V>): boolean {
    const otherVv = new Map(Object.entries(other.vv));
    let changed = false;
    const keys = new Set([...this.#entries.keys(), ...Object.keys(other.entries)]);
    for (const key of keys) {
      const mine = this.#entries.get(key);
      const theirs = other.entries[key];
      const kept = new Map<string, number>();
      const theirDots = new Map(Object.entries(theirs?.dots ?? {}));
      for (const [replica, counter] of mine?.dots ?? []) {
        // Keep a dot both have, or one they have not seen yet.
        if (theirDots.get(replica) === counter || counter > (otherVv.get(replica) ?? 0)) kept.set(replica, counter);
      }
      for (const [replica, counter] of theirDots) {
        if (kept.has(replica) && kept.get(replica) === counter) continue;
        if (mine?.dots.get(replica) === counter || counter > (this.#vv.get(replica) ?? 0)) kept.set(replica, counter);
      }
      if (kept.size === 0) {
        if (mine !== undefined) {
          this.#entries.delete(key);
          changed = true;
        }
        continue;
      }
      const value = mine?.value ?? (theirs as { value: V }).value;
      if (mine === undefined || !sameDots(mine.dots, kept)) changed = true;
      this.#entries.set(key, { dots: kept, value });
    }
    for (const [replica, counter] of otherVv) {
      if (counter > (this.#vv.get(replica) ?? 0)) {
        this.#vv.set(replica, counter);
        changed = true;
      }
    }
    if (changed) this.#digest = null;
    return changed;
  }

  toState(): OrSetState<V> {
    const entries: OrSetState<V>['entries'] = {};
    for (const [key, e] of this.#entries) entries[key] = { dots: Object.fromEntries(e.dots), value: e.value };
    return { vv: Object.fromEntries(this.#vv), entries };
  }
}

function byKey(a: [string, unknown], b: [string, unknown]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

function sameDots(a: Map<string, number>, b: Map<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/** Checks that untrusted data has the shape of an OrSetState (values are checked by `isValue`). */
export function isOrSetState<V>(x: unknown, isValue: (v: unknown) => v is V): x is OrSetState<V> {
  if (typeof x !== 'object' || x === null) return false;
  const s = x as { vv?: unknown; entries?: unknown };
  if (typeof s.vv !== 'object' || s.vv === null || typeof s.entries !== 'object' || s.entries === null) return false;
  if (!Object.values(s.vv).every((n) => Number.isInteger(n))) return false;
  return Object.values(s.entries).every((e: unknown) => {
    if (typeof e !== 'object' || e === null) return false;
    const { dots, value } = e as { dots?: unknown; value?: unknown };
    return typeof dots === 'object' && dots !== null && Object.values(dots).every((n) => Number.isInteger(n)) && isValue(value);
  });
}
