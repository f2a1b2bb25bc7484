// Channel-aware messaging: routing rules pick the channel of plain sends, metrics count per
// channel, broadcast reaches a named process on every node (directly or over Plumtree), and
// configuration comes from files with profiles.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DistributionErrorCode, loadNodeConfig, startNode } from '../../src/index.ts';
import type { Node, NodeOptions } from '../../src/index.ts';
import { stoppedAfterEach, until } from '../helpers.ts';

const SECRET = 'channels-test-secret';
const started = stoppedAfterEach();


const CHANNELS = { coordination: { priority: 'high' as const }, data: { parallelism: 2 }, events: {} };

async function cluster(count: number, extra: Partial<NodeOptions> = {}): Promise<Node[]> {
  const nodes: Node[] = [];
  for (let i = 0; i < count; i++) {
    const seeds = i === 0 ? [] : [nodes[0]?.addresses[0] as string];
    const n = await startNode({ name: `c${String(i)}`, secret: SECRET, channels: CHANNELS, seeds, ...extra });
    started.push(n);
    nodes.push(n);
  }
  await until(() => nodes.every((n) => n.nodes().length === count - 1), 'all connected');
  return nodes;
}

describe('channels', () => {
  it('routing rules choose the channel of plain sends (first match wins), and metrics count them per channel', async () => {
    const [a, b] = (await cluster(2)) as [Node, Node];
    const got: unknown[] = [];
    const sink = b.runtime.spawn(async (ctx) => {
      for (;;) got.push(await ctx.receive());
    });
    a.configureRouting([
      { type: ['heartbeat', 'vote'], channel: 'coordination' },
      { largerThan: 1_000, channel: 'data' },
      { shape: { event: undefined }, channel: 'events' },
      { type: 'heartbeat', channel: 'data' }, // never reached: the first rule wins
    ]);
    const before = a.getChannelMetrics('all');
    await a.runtime.run((ctx) => {
      ctx.send(sink, { type: 'heartbeat' });
      ctx.send(sink, { type: 'vote', for: 'c0' });
      ctx.send(sink, Buffer.alloc(4_000));
      ctx.send(sink, { event: 'joined' });
      ctx.send(sink, 'plain');
      return Promise.resolve();
    });
    await until(() => got.length === 5, 'five messages');
    const after = a.getChannelMetrics('all');
    const sent = (c: string): number => (after[c]?.messagesOut ?? 0) - (before[c]?.messagesOut ?? 0);
    expect(sent('coordination')).toBe(2);
    expect(sent('data')).toBe(1);
    expect(sent('events')).toBe(1);
    expect(sent('default')).toBe(1);
    expect(a.getChannelMetrics('data').connections).toBe(1);
    expect(() => {
      a.configureRouting([{ type: 'x', channel: 'nope' }]);
    }).toThrow(expect.objectContaining({ code: DistributionErrorCode.BAD_CONFIG }) as Error);
    expect(() => {
      a.configureRouting([{ channel: 'data' }]);
    }).toThrow(expect.objectContaining({ code: DistributionErrorCode.BAD_CONFIG }) as Error);
    expect(a.sendMessage('events', sink, 'explicit')).toBe('sent');
  });

  it('broadcast reaches the named process on every node, directly (full mesh) or over Plumtree (HyParView)', async () => {
    for (const overlay of ['fullMesh', 'hyparview'] as const) {
      const nodes = await cluster(4, { overlay: overlay === 'fullMesh' ? 'fullMesh' : { kind: 'hyparview', activeSize: 2, passiveSize: 4 } });
      const got = new Map<string, unknown[]>();
      for (const n of nodes) {
        const list: unknown[] = [];
        got.set(n.name, list);
        const pid = n.runtime.spawn(async (ctx) => {
          for (;;) list.push(await ctx.receive());
        });
        n.runtime.register('listener', pid);
      }
      nodes[1]?.broadcast('listener', { hello: overlay }, { channel: 'events' });
      await until(() => [...got.values()].every((l) => l.length === 1), `every node got the ${overlay} broadcast`);
      for (const l of got.values()) expect(l).toEqual([{ hello: overlay }]);
      await Promise.all(started.splice(0).map((n) => n.stop()));
    }
  });
});

describe('configuration', () => {
  it('a file with shared settings and profiles; built-in dev and prod; clear errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fdn-config-'));
    const file = join(dir, 'node.json');
    writeFileSync(file, JSON.stringify({ name: 'api-1', secret: 'from-the-file-123', channels: { data: { parallelism: 4 } }, profiles: { staging: { overlay: 'hyparview', seeds: ['ws://127.0.0.1:4370'] } } }));
    const staging = loadNodeConfig(file, { profile: 'staging' });
    expect(staging).toMatchObject({ name: 'api-1', overlay: 'hyparview', seeds: ['ws://127.0.0.1:4370'], channels: { data: { parallelism: 4 } } });
    expect(loadNodeConfig(file, { profile: 'dev' }).overlay).toBe('fullMesh');
    expect(loadNodeConfig(file, { overrides: { secret: 'from-the-environment' } }).secret).toBe('from-the-environment');
    const code = (f: () => unknown): unknown => {
      try {
        f();
      } catch (err) {
        return (err as { code?: string }).code;
      }
      return 'no error';
    };
    expect(code(() => loadNodeConfig(file, { profile: 'prod' }))).toBe(DistributionErrorCode.BAD_CONFIG); // prod needs seeds
    expect(code(() => loadNodeConfig(file, { profile: 'nope' }))).toBe(DistributionErrorCode.BAD_CONFIG);
    expect(code(() => loadNodeConfig(join(dir, 'missing.json')))).toBe(DistributionErrorCode.BAD_CONFIG);
    writeFileSync(join(dir, 'bad.json'), '{ not json');
    expect(code(() => loadNodeConfig(join(dir, 'bad.json')))).toBe(DistributionErrorCode.BAD_CONFIG);
    expect(code(() => loadNodeConfig({ secret: 'no-name-here' }))).toBe(DistributionErrorCode.BAD_CONFIG);
  });

  it('a node refuses invalid channel options at start', async () => {
    await expect(startNode({ name: 'x1', secret: SECRET, channels: { data: { reliability: 'sometimes' as never } } })).rejects.toMatchObject({ code: DistributionErrorCode.BAD_CONFIG });
    await expect(startNode({ name: 'x2', secret: SECRET, channels: { data: { parallelism: -1 } } })).rejects.toMatchObject({ code: expect.stringMatching(/BAD_CONFIG/) as string });
  });
});
