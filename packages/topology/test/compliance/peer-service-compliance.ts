// The PeerService compliance suite: FullMesh, HyParView, ClientServer and Static all pass these
// same tests, on the simulator and on real sockets.

import { describe, expect, it } from 'vitest';
import type { Clock, Logger, Random } from '@fdn/core';
import { MessageLog, Plumtree, TopologyErrorCode } from '../../src/index.ts';
import type { DownReason, PeerService, PeerServiceComponents, Transport } from '../../src/index.ts';

/** A started member of a test cluster, with what it observed. */
export interface Member {
  name: string;
  overlay: PeerService;
  plumtree: Plumtree;
  log: MessageLog<string>;
  delivered: string[];
  ups: string[];
  downs: { node: string; reason: DownReason }[];
  memberships: number;
  received: { from: string; text: string }[];
  /** Its position in the cluster (what `neighborBounds` is given). */
  index: number;
  /** Times its neighbours outnumbered the overlay's bound (checked on every neighbourUp). */
  overfull: number;
}

/** Builds a node's overlay. `index` is its position in the cluster (ClientServer makes 0 and 1 servers). */
export interface OverlayKind {
  label: string;
  make(index: number, components: PeerServiceComponents & { clock: Clock; random: Random; logger: Logger }): PeerService;
  /** Wires the overlay to its Plumtree (HyParView: the member directory). */
  attach?(overlay: PeerService): void;
  /** Joins `member` to the cluster of `existing` (already formed). */
  join(member: Member, existing: Member[]): Promise<void>;
  /**
   * How many neighbours the member at `index` has in a settled cluster of `n` members (`index`
   * among the original members, servers of ClientServer first); `max` also holds at all times.
   */
  neighborBounds(index: number, n: number): { min: number; max: number };
  /** Neighbours are a few of the members (HyParView): a node can lose them all and must repair. */
  partialView?: boolean;
}

/** Where the nodes run. */
export interface OverlayWorld {
  transport(name: string): Transport;
  clock: Clock;
  random(): Random;
  logger: Logger;
  pass(ms: number): Promise<void>;
  drive<T>(promise: Promise<T>): Promise<T>;
  crash(member: Member): Promise<void>;
  cleanup(): Promise<void>;
  /** Time scale: how long (ms) to allow for a cluster to settle. */
  settleMs: number;
}

export async function until(world: OverlayWorld, what: string, predicate: () => boolean, limitMs = world.settleMs, stepMs = 20): Promise<void> {
  for (let waited = 0; waited <= limitMs; waited += stepMs) {
    if (predicate()) return;
    await world.pass(stepMs);
  }
  throw new Error(`${what}: not within ${limitMs} ms`);
}

const USER = 'default';

async function startMember(world: OverlayWorld, kind: OverlayKind, name: string, index: number): Promise<Member> {
  const transport = world.transport(name);
  const random = world.random();
  const overlay = kind.make(index, { transport, clock: world.clock, random, logger: world.logger });
  const plumtree = new Plumtree({ lazyTickMs: 50, graftTimeoutMs: 100, graftRetryMs: 100, exchangeTickMs: 500 }, { transport, peerService: overlay, clock: world.clock, random: random.fork(), logger: world.logger });
  const member: Member = { name, overlay, plumtree, log: null as unknown as MessageLog<string>, delivered: [], ups: [], downs: [], memberships: 0, received: [], index, overfull: 0 };
  member.log = new MessageLog<string>({ name: 'test', node: name, deliver: (payload) => member.delivered.push(payload) });
  plumtree.register(member.log);
  kind.attach?.(overlay);
  overlay.on('up', (node) => member.ups.push(node));
  overlay.on('down', (node, reason) => member.downs.push({ node, reason }));
  overlay.on('membership', () => member.memberships++);
  // Generous about a cluster's size (the bound's max never shrinks with it).
  overlay.on('neighborUp', () => {
    if (overlay.neighbors().length > kind.neighborBounds(index, 1_000).max) member.overfull++;
  });
  overlay.onMessage(USER, (from, payload) => member.received.push({ from, text: payload.toString() }));
  await world.drive(overlay.start());
  return member;
}

/** Starts `n` members and joins them into one cluster. */
export async function cluster(world: OverlayWorld, kind: OverlayKind, n: number, prefix = 'n'): Promise<Member[]> {
  const members: Member[] = [];
  for (let i = 0; i < n; i++) {
    const m = await startMember(world, kind, `${prefix}${String(i)}`, i);
    if (i > 0) await world.drive(kind.join(m, members));
    members.push(m);
  }
  const names = members.map((m) => m.name).sort();
  await until(world, 'every member sees the whole cluster', () => members.every((m) => sameList(m.overlay.members(), names)));
  return members;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * What every settled overlay satisfies among `members`: connections both ways (a neighbour lists us
 * back), as many neighbours as the overlay promises for a cluster of that size, and one connected
 * graph (a broadcast over neighbour connections reaches everyone). Returns what is wrong, or null.
 */
function graphProblem(kind: OverlayKind, members: Member[]): string | null {
  const names = new Set(members.map((m) => m.name));
  const byName = new Map(members.map((m) => [m.name, m]));
  for (const m of members) {
    const neighbors = m.overlay.neighbors().filter((n) => names.has(n));
    if (neighbors.length !== m.overlay.neighbors().length) return `${m.name} keeps a crashed neighbour: ${m.overlay.neighbors().join(',')}`;
    const { min, max } = kind.neighborBounds(m.index, members.length);
    if (neighbors.length < min || neighbors.length > max) return `${m.name} has ${String(neighbors.length)} neighbours, not ${String(min)}..${String(max)}`;
    for (const n of neighbors) if (!byName.get(n)?.overlay.neighbors().includes(m.name)) return `${m.name} lists ${n} as a neighbour, not the other way round`;
  }
  const reached = new Set<string>([(members[0] as Member).name]);
  const queue = [(members[0] as Member).name];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    for (const n of byName.get(name)?.overlay.neighbors() ?? []) {
      if (names.has(n) && !reached.has(n)) {
        reached.add(n);
        queue.push(n);
      }
    }
  }
  return reached.size === names.size ? null : `the neighbour graph is split: ${String(reached.size)} of ${String(names.size)} reachable`;
}

async function untilGraphSettles(world: OverlayWorld, kind: OverlayKind, members: Member[], what: string, limitMs: number): Promise<void> {
  let problem = graphProblem(kind, members);
  for (let waited = 0; problem !== null; waited += 50) {
    if (waited > limitMs) throw new Error(`${what}: ${problem} (after ${String(limitMs)} ms)`);
    await world.pass(50);
    problem = graphProblem(kind, members);
  }
}

async function stopAll(world: OverlayWorld, members: Member[]): Promise<void> {
  for (const m of members) {
    m.plumtree.stop();
    await world.drive(m.overlay.stop());
  }
}

export function peerServiceCompliance(kind: OverlayKind, worldLabel: string, makeWorld: () => OverlayWorld): void {
  describe(`PeerService compliance: ${kind.label} on ${worldLabel}`, () => {
    const withWorld = (fn: (world: OverlayWorld, started: Member[]) => Promise<void>) => async () => {
      const world = makeWorld();
      const started: Member[] = [];
      try {
        await fn(world, started);
      } finally {
        await stopAll(world, started).catch(() => undefined);
        await world.cleanup();
      }
    };

    it(
      'forms one cluster: members() agree everywhere, neighbours are members, up and membership events fire',
      withWorld(async (world, started) => {
        const members = await cluster(world, kind, 5);
        started.push(...members);
        const names = members.map((m) => m.name).sort();
        for (const m of members) {
          expect(m.overlay.members()).toEqual(names);
          expect(m.overlay.memberCount()).toBe(names.length);
          expect(m.overlay.neighbors().length).toBeGreaterThan(0);
          for (const n of m.overlay.neighbors()) expect(names).toContain(n);
          expect(m.overlay.neighbors()).not.toContain(m.name);
        }
        // membership events are coalesced (one per 50 ms), so the first may follow convergence.
        await until(world, 'a membership event everywhere', () => members.every((m) => m.memberships > 0));
        await until(world, 'every member reported up everywhere', () => members.every((m) => names.every((n) => n === m.name || m.overlay.isUp(n))));
        for (const m of members) expect(new Set(m.ups)).toEqual(new Set(names.filter((n) => n !== m.name)));
        // up and down alternate: nothing is up twice without a down between.
        for (const m of members) expect(m.ups.length).toBe(new Set(m.ups).size);
      }),
    );

    it(
      'forward reaches every member from every member, with the sender named',
      withWorld(async (world, started) => {
        const members = await cluster(world, kind, 5);
        started.push(...members);
        for (const from of members) {
          for (const to of members) {
            if (from === to) continue;
            const status = await world.drive(from.overlay.forward(to.name, USER, Buffer.from(`${from.name}->${to.name}`)));
            expect(['sent', 'backpressure']).toContain(status);
          }
        }
        await until(world, 'all 20 forwards arrive', () => members.every((m) => m.received.length === 4));
        for (const m of members) {
          for (const r of m.received) expect(r.text).toBe(`${r.from}->${m.name}`);
          expect(new Set(m.received.map((r) => r.from)).size).toBe(4);
        }
      }),
    );

    it(
      'forward: unknown nodes, itself and the control channel are refused clearly',
      withWorld(async (world, started) => {
        const members = await cluster(world, kind, 2);
        started.push(...members);
        const a = members[0] as Member;
        expect(await world.drive(a.overlay.forward('nobody', USER, Buffer.from('x')))).toBe('unknown');
        expect(await world.drive(a.overlay.forward(a.name, USER, Buffer.from('x')))).toBe('unknown');
        await expect(a.overlay.forward('n1', 'control', Buffer.from('x'))).rejects.toMatchObject({ code: TopologyErrorCode.BAD_CONFIG });
        expect(() => {
          a.overlay.onMessage('control', () => undefined);
        }).toThrow(expect.objectContaining({ code: TopologyErrorCode.BAD_CONFIG }) as Error);
        expect(() => {
          a.overlay.onMessage('no-such-channel', () => undefined);
        }).toThrow(expect.objectContaining({ code: TopologyErrorCode.UNKNOWN_CHANNEL }) as Error);
      }),
    );

    it(
      'Plumtree over the overlay: every broadcast is delivered once on every member',
      withWorld(async (world, started) => {
        const members = await cluster(world, kind, 6);
        started.push(...members);
        for (let i = 0; i < 10; i++) (members[i % members.length] as Member).plumtree.broadcast('test', `m${String(i)}`);
        await until(world, 'ten broadcasts everywhere', () => members.every((m) => m.delivered.length === 10));
        await world.pass(world.settleMs / 4);
        for (const m of members) expect([...m.delivered].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `m${String(i)}`).sort());
      }),
    );

    it(
      'leave: the others see it down (left) and drop it; the node can join again',
      withWorld(async (world, started) => {
        const members = await cluster(world, kind, 4);
        started.push(...members);
        const leaver = members[3] as Member;
        const rest = members.slice(0, 3);
        await world.drive(leaver.overlay.leave());
        await until(world, 'the others drop the leaver', () => rest.every((m) => !m.overlay.members().includes(leaver.name) && !m.overlay.isUp(leaver.name)));
        for (const m of rest) expect(m.downs.find((d) => d.node === leaver.name)?.reason.kind).toBe('left');
        expect(leaver.overlay.members()).toEqual([leaver.name]);
        expect(leaver.overlay.neighbors()).toEqual([]);
        await world.drive(kind.join(leaver, rest));
        await until(world, 'the leaver is back everywhere', () => members.every((m) => m.overlay.members().length === 4));
      }),
    );

    it(
      'crash: the others report it down and stop counting it reachable; the cluster keeps working',
      withWorld(async (world, started) => {
        const members = await cluster(world, kind, 5);
        started.push(...members);
        const victim = members[4] as Member;
        const rest = members.slice(0, 4);
        await world.crash(victim);
        await until(world, 'the crash is noticed', () => rest.every((m) => !m.overlay.isUp(victim.name) && m.downs.some((d) => d.node === victim.name)), world.settleMs * 2);
        for (const m of rest) expect(['unreachable', 'expired']).toContain(m.downs.find((d) => d.node === victim.name)?.reason.kind);
        (rest[0] as Member).plumtree.broadcast('test', 'after the crash');
        await until(world, 'a broadcast after the crash reaches the survivors', () => rest.every((m) => m.delivered.includes('after the crash')));
        for (const from of rest) {
          for (const to of rest) if (from !== to) await world.drive(from.overlay.forward(to.name, USER, Buffer.from('still here')));
        }
        await until(world, 'forwards among survivors', () => rest.every((m) => m.received.filter((r) => r.text === 'still here').length === 3));
      }),
    );

    it(
      'a member restarted under the same name comes back up everywhere',
      withWorld(async (world, started) => {
        const members = await cluster(world, kind, 4);
        started.push(...members);
        const victim = members[3] as Member;
        const rest = members.slice(0, 3);
        await world.crash(victim);
        await until(world, 'the crash is noticed', () => rest.every((m) => !m.overlay.isUp(victim.name)), world.settleMs * 2);
        const again = await startMember(world, kind, victim.name, 3);
        started.push(again);
        await world.drive(kind.join(again, rest));
        await until(world, 'the restarted member is up everywhere', () => rest.every((m) => m.overlay.isUp(victim.name)) && again.overlay.members().length === 4, world.settleMs * 2);
        await world.drive((rest[0] as Member).overlay.forward(victim.name, USER, Buffer.from('welcome back')));
        await until(world, 'a forward reaches the new incarnation', () => again.received.some((r) => r.text === 'welcome back'));
      }),
    );

    it(
      'neighbour connections are symmetric, as many as the overlay promises, never more, and connect everyone',
      withWorld(async (world, started) => {
        const members = await cluster(world, kind, 8);
        started.push(...members);
        await untilGraphSettles(world, kind, members, 'a settled cluster of 8', world.settleMs);
        // Churn the views for a while (shuffles, promotions): the bound holds throughout.
        await world.pass(world.settleMs / 2);
        expect(members.map((m) => m.overfull)).toEqual(members.map(() => 0));
        await untilGraphSettles(world, kind, members, 'still settled', world.settleMs);
      }),
    );

    it(
      'a third of the members crash at once: the survivors repair their neighbours and stay one connected overlay',
      withWorld(async (world, started) => {
        const members = await cluster(world, kind, 9);
        started.push(...members);
        await untilGraphSettles(world, kind, members, 'a settled cluster of 9', world.settleMs);
        // The last three (clients, for ClientServer: losing its servers would be another test).
        const victims = members.slice(6);
        const survivors = members.slice(0, 6);
        for (const v of victims) await world.crash(v);
        await untilGraphSettles(world, kind, survivors, 'the survivors repaired', world.settleMs * 2);
        expect(survivors.map((m) => m.overfull)).toEqual(survivors.map(() => 0));
        (survivors[5] as Member).plumtree.broadcast('test', 'after the crashes');
        await until(world, 'a broadcast reaches every survivor', () => survivors.every((m) => m.delivered.includes('after the crashes')));
      }),
    );

    if (kind.partialView === true) {
      it(
        'a member whose every neighbour crashes finds new ones (its passive view) and rejoins the overlay',
        withWorld(async (world, started) => {
          const members = await cluster(world, kind, 10);
          started.push(...members);
          await untilGraphSettles(world, kind, members, 'a settled cluster of 10', world.settleMs);
          const lonely = members[9] as Member;
          const victims = members.filter((m) => lonely.overlay.neighbors().includes(m.name));
          expect(victims.length).toBeGreaterThan(0);
          for (const v of victims) await world.crash(v);
          const survivors = members.filter((m) => !victims.includes(m));
          await untilGraphSettles(world, kind, survivors, `${lonely.name} lost its ${String(victims.length)} neighbours`, world.settleMs * 2);
          lonely.plumtree.broadcast('test', 'from the lonely one');
          await until(world, 'its broadcast reaches every survivor', () => survivors.every((m) => m.delivered.includes('from the lonely one')));
        }),
      );
    }

    it(
      'lifecycle: stop is idempotent, no events after it, a stopped service cannot start; joining nowhere fails clearly',
      withWorld(async (world, started) => {
        const members = await cluster(world, kind, 3);
        started.push(...members);
        const a = members[0] as Member;
        const events = { n: 0 };
        a.overlay.on('down', () => events.n++);
        a.overlay.on('membership', () => events.n++);
        a.plumtree.stop();
        await world.drive(a.overlay.stop());
        await world.drive(a.overlay.stop());
        await world.pass(world.settleMs / 2);
        expect(events.n).toBe(0);
        await expect(a.overlay.start()).rejects.toMatchObject({ code: TopologyErrorCode.STOPPED });
        const b = members[1] as Member;
        const err: unknown = await world.drive(b.overlay.join(deadAddress(a))).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toMatchObject({ code: TopologyErrorCode.CONNECT_FAILED });
      }),
    );
  });
}

/** An address where nothing listens any more (the stopped member's). */
function deadAddress(m: Member): string {
  const address = m.overlay.self.addresses[0];
  if (address === undefined) throw new Error(`${m.name} has no address`);
  return address;
}
