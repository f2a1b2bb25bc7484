// Each overlay across six real OS processes on 127.0.0.1: the cluster forms, Plumtree reaches
// everyone, forward reaches any member; then one member is killed with SIGKILL and the others
// notice and carry on.

import { afterEach, describe, expect, it } from 'vitest';
import { eventually, killAll, spawnOverlayNode } from './process-node.ts';
import type { OverlayNodeConfig, ProcessNode } from './process-node.ts';

const SECRET = 'overlay integration';
const N = 6;

interface State {
  members: string[];
  neighbors: string[];
  delivered: string[];
  received: { from: string; text: string }[];
  up: string[];
}

afterEach(killAll);

const state = (n: ProcessNode): Promise<State> => n.call<State>('state');

async function allHold(nodes: ProcessNode[], predicate: (s: State, n: ProcessNode) => boolean, limitMs = 15_000): Promise<void> {
  await eventually(async () => (await Promise.all(nodes.map(state))).every((s, i) => predicate(s, nodes[i] as ProcessNode)), limitMs);
}

const overlays: { overlay: OverlayNodeConfig['overlay']; label: string }[] = [
  { overlay: 'fullMesh', label: 'FullMesh' },
  { overlay: 'hyparview', label: 'HyParView (active 3)' },
  { overlay: 'clientServer', label: 'ClientServer (2 servers, 4 clients)' },
  { overlay: 'static', label: 'Static' },
];

describe('overlays across OS processes', () => {
  for (const { overlay, label } of overlays) {
    it(`${label}: forms, broadcasts, forwards, survives a SIGKILL`, async () => {
      const nodes = await Promise.all(
        Array.from({ length: N }, (_, i) => spawnOverlayNode({ overlay, ...(overlay === 'clientServer' ? { role: i < 2 ? 'server' : 'client' } : {}), transport: { name: `n${String(i)}`, secret: SECRET } })),
      );
      const names = nodes.map((n) => n.name).sort();
      // Join: through n0, or (static) every earlier node.
      for (let i = 1; i < N; i++) {
        const node = nodes[i] as ProcessNode;
        const contacts = overlay === 'static' ? nodes.slice(0, i) : [nodes[0] as ProcessNode];
        for (const c of contacts) await node.call('join', { name: c.name, address: c.address });
      }
      await allHold(nodes, (s) => s.members.join() === names.join() && s.up.length === N - 1);

      await (nodes[2] as ProcessNode).call('broadcast', { text: 'hello cluster' });
      await allHold(nodes, (s) => s.delivered.includes('hello cluster'));

      // From a client (ClientServer: relayed through a server to the other clients) to everyone.
      const sender = nodes[3] as ProcessNode;
      for (const to of nodes) if (to !== sender) expect(await sender.call('forward', { to: to.name, text: `to ${to.name}` })).toBe('sent');
      await allHold(
        nodes.filter((n) => n !== sender),
        (s, n) => s.received.some((r) => r.from === sender.name && r.text === `to ${n.name}`),
      );

      // SIGKILL a member (a client for ClientServer).
      const victim = nodes[5] as ProcessNode;
      await victim.kill('SIGKILL');
      const survivors = nodes.slice(0, 5);
      await allHold(survivors, (s) => !s.up.includes(victim.name));
      for (const n of survivors) {
        const down = n.events.find((e) => e.event === 'down' && e.peer === victim.name);
        expect(down?.kind, `${n.name} saw ${victim.name} go down`).toMatch(/unreachable|expired/);
      }
      await (nodes[1] as ProcessNode).call('broadcast', { text: 'after the kill' });
      await allHold(survivors, (s) => s.delivered.includes('after the kill'));
    }, 60_000);
  }
});
