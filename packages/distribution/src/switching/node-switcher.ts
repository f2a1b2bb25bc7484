// A node's part in topology switching: the switch machine (switcher.ts) wired to the node's
// overlays (overlay/overlays.ts: prepare, join, commit, abort, adopt) and its connections.

import type { Clock, Random } from '@fdn/core';
import { uniqueIds } from '@fdn/core';
import type { Codec } from '../codec/codec.ts';
import type { Dispatcher } from '../node/dispatch.ts';
import { Kind } from '../node/protocol.ts';
import type { Message } from '../node/protocol.ts';
import type { Overlays } from '../overlay/overlays.ts';
import { parseSwitchMessage, TopologySwitcher } from './switcher.ts';
import type { SwitchOptions } from './switcher.ts';

/** What a node's switcher is made of. */
export interface NodeSwitcherParts {
  readonly name: string;
  readonly clock: Clock;
  readonly random: Random;
  readonly codec: Codec;
  readonly overlays: Overlays;
  /** The other nodes connected now. */
  nodes(): string[];
  /** Sends over the node's connections; false when nothing may be sent to `node` (stopped, blocked). */
  send(node: string, message: Message): void;
  mayReach(node: string): boolean;
}

/** Builds the node's switcher and registers the switch messages with its dispatcher. */
export function nodeSwitcher(parts: NodeSwitcherParts, dispatch: Dispatcher, options: SwitchOptions = {}): TopologySwitcher {
  const { clock, random, overlays, codec } = parts;
  const uniqueId = uniqueIds(random);
  const switcher = new TopologySwitcher(
    {
      name: parts.name,
      now: () => clock.now(),
      setTimer: (ms, fn) => clock.setTimer(ms, fn),
      clearTimer: (t) => {
        clock.clearTimer(t as ReturnType<Clock['setTimer']>);
      },
      sample: (items, count) => random.sample(items, count),
      uniqueId,
      nodes: () => parts.nodes(),
      isUp: (node) => overlays.current.isUp(node),
      current: () => overlays.epochWithContacts(),
      send: (node, m) => {
        parts.send(node, [Kind.Switch, m]);
      },
      sendOver: (which, node, m) => {
        if (parts.mayReach(node)) overlays.forwardOver(which, node, codec.encode([Kind.Switch, m]));
      },
      neighbors: (which) => overlays.neighbors(which),
      prepare: (to, participants) => overlays.prepare(to, participants),
      join: (participants, timeoutMs) => overlays.join(participants, timeoutMs),
      commit: (epoch, switchId, excused) => {
        overlays.commit(epoch, switchId, excused);
      },
      abort: () => overlays.abort(),
      epoch: (from, info) => {
        void overlays.adopt(from, info);
      },
    },
    options,
  );
  dispatch.register(Kind.Switch, (from, m) => {
    const message = parseSwitchMessage(m[1]);
    if (message === null) throw new Error('a malformed topology switch message');
    switcher.receive(from, message);
  });
  return switcher;
}
