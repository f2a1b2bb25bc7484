// The distribution protocol: what one node says to another about processes. Each message is a
// msgpack array whose first element is its kind; pids and refs travel as extension types.

import type { Pid, Ref } from '@fdn/actors';
import type { RegistryMessage } from '../registry/global.ts';
import type { GroupsMessage } from '../registry/groups.ts';
import type { ReliableFrame } from './reliable.ts';
import type { NodeLoad } from '../ecosystem/placement.ts';
import type { SwitchMessage } from '../topology/switch.ts';

export const enum Kind {
  /** [Send, to, msg] */
  Send = 0,
  /** [SendNamed, name, msg] */
  SendNamed = 1,
  /** [Link, from, to] */
  Link = 2,
  /** [Unlink, from, to] */
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
  /** [SpawnRequest, id, behaviour, args, requester | null, link, monitor, system]: `system` names one of the node's own behaviours (ecosystems), not the user's factory. */
  SpawnRequest = 9,
  /** [SpawnReply, id, pid | null, errorCode | null, message | null] */
  SpawnReply = 10,
  /** [Registry, message]: the cluster registry (see registry/global.ts). */
  Registry = 11,
  /** [Groups, message]: process groups (see registry/groups.ts). */
  Groups = 12,
  /** [Reliable, frame]: a numbered message or an ack of an at-least-once channel (see reliable.ts). */
  Reliable = 13,
  /** [MonitorName, watcher, name, ref]: monitor what is registered as `name` on the receiving node. */
  MonitorName = 14,
  /** [NameResolved, watcher, ref, pid]: the answer to MonitorName when the name was registered. */
  NameResolved = 15,
  /** [Load, load]: the sender's load report (about once a second). */
  Load = 16,
  /** [Switch, message]: topology switching (see topology/switch.ts). */
  Switch = 17,
  /** [Leaving]: the sender is stopping in order: place nothing new on it. */
  Leaving = 18,
}

export type Message =
  | [Kind.Send, Pid, unknown]
  | [Kind.SendNamed, string, unknown]
  | [Kind.Link | Kind.Unlink, Pid, Pid]
  | [Kind.LinkExit | Kind.Exit, Pid, Pid, unknown]
  | [Kind.Monitor | Kind.Demonitor, Pid, Pid, Ref]
  | [Kind.Down, Pid, Ref, Pid, unknown]
  | [Kind.SpawnRequest, number, string, unknown[], Pid | null, boolean, Ref | null, boolean]
  | [Kind.SpawnReply, number, Pid | null, string | null, string | null]
  | [Kind.Registry, RegistryMessage]
  | [Kind.Groups, GroupsMessage]
  | [Kind.Reliable, ReliableFrame]
  | [Kind.MonitorName, Pid, string, Ref]
  | [Kind.NameResolved, Pid, Ref, Pid]
  | [Kind.Load, NodeLoad]
  | [Kind.Switch, SwitchMessage]
  | [Kind.Leaving];
