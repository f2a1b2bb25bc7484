// The node's extension points: features installed at start (ecosystems), an overlay of your own,
// and ids unique across nodes (two nodes starting unnamed ecosystems at once get distinct names).

import type { GenServerBehaviour } from '@fdn/actors';
import { seededRandom, silentLogger, systemRandom } from '@fdn/core';
import { fullMesh } from '@fdn/topology';
import { describe, expect, it } from 'vitest';
import { DistributionErrorCode, ecosystems, Node, spawnEcosystem, startNode } from '../../src/index.ts';
import type { NodeFeature } from '../../src/index.ts';
import { stoppedAfterEach, until } from '../helpers.ts';

const SECRET = 'features-test-secret';
const started = stoppedAfterEach();

const idle: GenServerBehaviour<null> = { init: () => ({ type: 'ok', state: null }), handleInfo: (_m, s) => ({ type: 'noreply', state: s }) };

describe('node features', () => {
  it('startNode installs ecosystems; a node built without them says which feature is missing and how to get it', () => {
    const bare = new Node({ name: 'bare', secret: SECRET, listen: false, logger: silentLogger() });
    let thrown: unknown;
    try {
      bare.feature(ecosystems);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ code: DistributionErrorCode.BAD_ARGUMENT });
    expect((thrown as Error).message).toMatch(/'ecosystems' feature is not installed on bare: start the node with startNode/);
    // Without the feature, the node's system factory has no ecosystem behaviours to spawn.
    expect(bare.systemFactory.names()).toEqual([]);
  });

  it('a feature of your own is installed once per node and its state found again', async () => {
    let installs = 0;
    const counterFeature: NodeFeature<{ node: string }> = {
      name: 'counter',
      install: (node) => {
        installs++;
        return { node: node.name };
      },
    };
    const node = new Node({ name: 'own', secret: SECRET, listen: false, logger: silentLogger() }, [counterFeature]);
    expect(node.feature(counterFeature)).toEqual({ node: 'own' });
    expect(node.feature(counterFeature)).toBe(node.feature(counterFeature));
    expect(installs).toBe(1);
    await node.stop();
  });

  it('an overlay of your own: a function of the node parts returning a PeerService', async () => {
    let built = 0;
    const a = await startNode({
      name: 'own-overlay-a',
      secret: SECRET,
      overlay: (components) => {
        built++;
        return fullMesh({ seeds: [] })(components);
      },
    });
    started.push(a);
    const b = await startNode({ name: 'own-overlay-b', secret: SECRET, seeds: [a.addresses[0] as string] });
    started.push(b);
    await until(() => a.nodes().includes('own-overlay-b'), 'b joined the node running the overlay of its own');
    expect(built).toBe(1);
    expect(a.topology).toBe('fullMesh');
    a.factory.register('idle', idle);
    const { pid } = await b.spawn(null, 'own-overlay-a', 'idle');
    expect(pid.node).toBe('own-overlay-a');
    // Anything else that is not an overlay configuration is still refused by the schema.
    await expect(startNode({ name: 'bad', secret: SECRET, overlay: 42 as never })).rejects.toMatchObject({ code: DistributionErrorCode.BAD_CONFIG });
  });
});

describe('unique ids', () => {
  it('two nodes starting unnamed ecosystems at the same moment get distinct names', async () => {
    const nodes = await Promise.all(['u1', 'u2'].map((name) => startNode({ name, secret: SECRET, listen: false, random: systemRandom() })));
    started.push(...nodes);
    for (const n of nodes) n.factory.register('idle', idle);
    const ecos = await Promise.all(nodes.map((n) => spawnEcosystem(n, { coordinator: idle, workers: { behaviour: 'idle', count: 1 }, distribution: { policy: 'localOnly' } })));
    const [x, y] = ecos.map((e) => e.name);
    expect(x).toMatch(/^ecosystem-[A-Za-z0-9_-]{21}$/);
    expect(y).toMatch(/^ecosystem-[A-Za-z0-9_-]{21}$/);
    expect(x).not.toBe(y);
    // In a simulation the names follow the seed: the same seed, the same name.
    const seeded = await Promise.all([1, 2].map((i) => startNode({ name: `s${String(i)}`, secret: SECRET, listen: false, random: seededRandom(5) })));
    started.push(...seeded);
    for (const n of seeded) n.factory.register('idle', idle);
    const [p, q] = await Promise.all(seeded.map((n) => spawnEcosystem(n, { coordinator: idle, workers: { behaviour: 'idle', count: 1 }, distribution: { policy: 'localOnly' } })));
    expect(p?.name).toBe(q?.name);
  });
});
