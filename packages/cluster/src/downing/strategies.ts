// Downing strategies (Akka's split brain resolver's, with the same names): given the clean
// sides of a partition, does this node's side stay up? Each is a rule every member of a side
// evaluates alike on the same view, so that at most one side stays up. Where they differ from
// Akka: keepMajority breaks an exact tie by the lowest name (Akka: the lowest address), and
// indirectly connected members are downed before any strategy (as Akka does), not counted.

import type { Member } from './view.ts';

/** What a strategy decides for `own` side (`members`: every member not indirectly connected, `own` included). */
export type SideDecision = 'stay' | 'down';

export interface DowningStrategy {
  readonly name: string;
  decide(own: readonly string[], members: readonly Member[]): SideDecision;
}

/** A lowest-name tie-break: the side holding the smallest name of `members`. */
function holdsLowest(own: readonly string[], members: readonly Member[]): boolean {
  const lowest = members.map((m) => m.name).sort()[0];
  return lowest !== undefined && own.includes(lowest);
}

/** The side with more than half of the members stays; at exactly half, the side holding the lowest name. */
export function keepMajority(): DowningStrategy {
  return {
    name: 'keepMajority',
    decide: (own, members) => (own.length * 2 > members.length || (own.length * 2 === members.length && holdsLowest(own, members)) ? 'stay' : 'down'),
  };
}

/**
 * The side with the oldest member (smallest incarnation; ties by name) stays. With `downIfAlone`
 * (default true), an oldest member left alone goes down and the other side stays instead, so that
 * one isolated node cannot take the cluster down with it.
 */
export function keepOldest(options: { downIfAlone?: boolean } = {}): DowningStrategy {
  const downIfAlone = options.downIfAlone ?? true;
  return {
    name: 'keepOldest',
    decide: (own, members) => {
      const oldest = [...members].sort((a, b) => a.incarnation - b.incarnation || (a.name < b.name ? -1 : 1))[0];
      if (oldest === undefined) return 'stay';
      const hasOldest = own.includes(oldest.name);
      if (downIfAlone && members.length > 2) {
        const oldestAlone = hasOldest ? own.length === 1 : false;
        if (oldestAlone) return 'down';
        // The oldest may be alone on its side: then the others stay. This side knows it when it holds everyone else.
        if (!hasOldest && own.length === members.length - 1) return 'stay';
      }
      return hasOldest ? 'stay' : 'down';
    },
  };
}

/** The side with `referee` stays, if it has at least `downAllIfLessThan` members (default 1). */
export function keepReferee(options: { referee: string; downAllIfLessThan?: number }): DowningStrategy {
  return {
    name: 'keepReferee',
    decide: (own) => (own.includes(options.referee) && own.length >= (options.downAllIfLessThan ?? 1) ? 'stay' : 'down'),
  };
}

/** A side with at least `quorumSize` members stays (set it above half the largest cluster you run, or two sides can stay). */
export function staticQuorum(options: { quorumSize: number }): DowningStrategy {
  return {
    name: 'staticQuorum',
    decide: (own) => (own.length >= options.quorumSize ? 'stay' : 'down'),
  };
}

/** Every side goes down (for when no side may go on alone: the nodes restart and form a new cluster). */
export function downAll(): DowningStrategy {
  return { name: 'downAll', decide: () => 'down' };
}
