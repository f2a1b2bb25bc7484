// What a node knows of the cluster when it decides who is down: the members (with their
// incarnation, which orders them by age), and for each member the members it has a live
// connection to (its row, gossiped). Two members are connected when neither says otherwise.
// The view is split into sides: the groups of members connected to one another. A member that
// is cut from some of its own side (a non-clean partition: A–C broken while both reach B) is
// "indirectly connected": such members are downed first, then the strategy judges the clean rest.

/** A member: its name and the incarnation of its start (smaller = older). */
export interface Member {
  name: string;
  incarnation: number;
}

/** A member's row: the members it has a live connection to. */
export type Rows = ReadonlyMap<string, ReadonlySet<string>>;

/** The view of the cluster a decision is made on, as `self` knows it. */
export interface ClusterView {
  self: string;
  /** Every member not yet downed or left, `self` included. */
  members: readonly Member[];
  /** Rows by member; a member without a row is taken to reach everyone (nothing says otherwise). */
  rows: Rows;
}

/** The view split: the members downed for being indirectly connected, and the clean sides. */
export interface Sides {
  /** Members cut from some of their own side: downed before anything else. */
  indirectlyConnected: string[];
  /** The clean sides (each fully connected), largest first, then by lowest name. */
  sides: string[][];
  /** The side `self` is on (empty when `self` is indirectly connected). */
  own: string[];
}

function connected(rows: Rows, a: string, b: string): boolean {
  const ra = rows.get(a);
  const rb = rows.get(b);
  return (ra === undefined || ra.has(b)) && (rb === undefined || rb.has(a));
}

/** Splits `view` into sides (see the file comment). */
export function splitSides(view: ClusterView): Sides {
  const names = view.members.map((m) => m.name).sort();
  // Connected components of the "connected" relation.
  const component = new Map<string, number>();
  let next = 0;
  for (const start of names) {
    if (component.has(start)) continue;
    const id = next++;
    const stack = [start];
    component.set(start, id);
    while (stack.length > 0) {
      const a = stack.pop() as string;
      for (const b of names) {
        if (component.has(b) || !connected(view.rows, a, b)) continue;
        component.set(b, id);
        stack.push(b);
      }
    }
  }
  // Within a component, both ends of a missing connection are indirectly connected.
  const indirect = new Set<string>();
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const a = names[i] as string;
      const b = names[j] as string;
      if (component.get(a) === component.get(b) && !connected(view.rows, a, b)) {
        indirect.add(a);
        indirect.add(b);
      }
    }
  }
  const byComponent = new Map<number, string[]>();
  for (const name of names) {
    if (indirect.has(name)) continue;
    const id = component.get(name) as number;
    byComponent.set(id, [...(byComponent.get(id) ?? []), name]);
  }
  const sides = [...byComponent.values()].sort((x, y) => y.length - x.length || ((x[0] as string) < (y[0] as string) ? -1 : 1));
  return { indirectlyConnected: [...indirect].sort(), sides, own: sides.find((s) => s.includes(view.self)) ?? [] };
}
