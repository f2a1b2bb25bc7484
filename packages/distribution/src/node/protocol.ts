// The distribution protocol's message kinds: what one node says to another. Each message is a
// msgpack array whose first element is its kind; pids and refs travel as extension types. The
// numbers are allotted here, once, so no two features pick the same; each feature defines the
// shape of its own messages and registers its handlers with the node's dispatcher.

/** The kind of a protocol message: its first element. */
export const enum Kind {
  /** [Send, to, msg] (remote signals) */
  Send = 0,
  /** [SendNamed, name, msg] (remote signals) */
  SendNamed = 1,
  /** [Link, from, to] (remote signals) */
  Link = 2,
  /** [Unlink, from, to] (remote signals) */
  Unlink = 3,
  /** [LinkExit, from, to, reason]: `from` exited (or was not alive) while linked to `to`. */
  LinkExit = 4,
  /** [Exit, from, to, reason]: exit/2. */
  Exit = 5,
  /** [Monitor, watcher, target, ref] */
  Monitor = 6,
  /** [Demonitor, watcher, target, ref] */
  Demonitor = 7,
  /** [Down, watcher, ref, target, reason] */
  Down = 8,
  /** Remote spawn: see spawn/remote-spawn.ts. */
  SpawnRequest = 9,
  SpawnReply = 10,
  /** [Registry, message]: the cluster registry (see registry/global.ts). */
  Registry = 11,
  /** [Groups, message]: process groups (see registry/groups.ts). */
  Groups = 12,
  /** [Reliable, frame]: a numbered message or an ack of an at-least-once channel (see reliable/). */
  Reliable = 13,
  /** [MonitorName, watcher, name, ref]: monitor what is registered as `name` on the receiving node. */
  MonitorName = 14,
  /** [NameResolved, watcher, ref, pid]: the answer to MonitorName when the name was registered. */
  NameResolved = 15,
  /** [Load, load]: the sender's load report (about once a second; see load/). */
  Load = 16,
  /** [Switch, message]: topology switching (see switching/). */
  Switch = 17,
  /** [Leaving]: the sender is stopping in order: place nothing new on it. */
  Leaving = 18,
}

/** A protocol message: its kind, then its fields (each feature checks them: they come from a peer). */
export type Message = readonly [Kind, ...unknown[]];
