// Configuration mistakes are FDN_ERR_BAD_CONFIG naming the key and what is allowed, before
// anything starts; the environment fills what the options leave out; a node that joins nobody
// says so (joined() rejects with each seed's reason, and a warning is logged with backoff).

import { createServer } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '@fdn/core';
import { describe, expect, it } from 'vitest';
import { DistributionErrorCode, loadNodeConfig, NODE_OPTION_KEYS, optionsFromEnvironment, startNode } from '../../src/index.ts';
import type { NodeOptions } from '../../src/index.ts';
import { stoppedAfterEach } from '../helpers.ts';

const SECRET = 'config-test-secret';
const started = stoppedAfterEach();

async function badConfig(options: unknown): Promise<string> {
  const err = (await startNode(options as NodeOptions).then(
    (n) => {
      started.push(n);
      return null;
    },
    (e: unknown) => e,
  )) as { code?: string; message: string } | null;
  expect(err, 'startNode should have refused').not.toBeNull();
  expect(err?.code).toBe(DistributionErrorCode.BAD_CONFIG);
  return err?.message ?? '';
}

describe('options are checked before anything starts', () => {
  it('an unknown key is refused, naming it, guessing the intended one, listing what is allowed', async () => {
    const message = await badConfig({ name: 'a', secret: SECRET, listn: { port: 0 } });
    expect(message).toContain("listn: unknown option (did you mean 'listen'?)");
    expect(message).toContain('allowed here: name, secret, listen, seeds');
  });

  it('unknown keys nested in channels, overlays and listen are refused too', async () => {
    const message = await badConfig({ name: 'a', secret: SECRET, channels: { data: { parallelsm: 4 } }, overlay: { kind: 'hyparview', activeSise: 5 }, listen: { prot: 1 } });
    expect(message).toContain("channels.data.parallelsm: unknown option (did you mean 'parallelism'?)");
    expect(message).toContain("overlay.activeSise: unknown option (did you mean 'activeSize'?)");
    expect(message).toContain("listen.prot: unknown option (did you mean 'port'?)");
  });

  it('values out of range, wrong types and wrong choices name the key, the allowed values and what was given', async () => {
    expect(await badConfig({ name: 'a', secret: SECRET, listen: { port: 70_000 } })).toContain('listen.port: a port is 0–65535 (0: any free port); got 70000');
    expect(await badConfig({ name: 'a', secret: 'short' })).toContain('secret: the cluster secret must be at least 8 characters');
    expect(await badConfig({ name: 'bad name!', secret: SECRET })).toContain("name: 1–255 letters, digits, '_', '-', '.' or '@'");
    expect(await badConfig({ name: 'a', secret: SECRET, overlay: 'ring' })).toMatch(/overlay: .*fullMesh.*hyparview/);
    expect(await badConfig({ name: 'a', secret: SECRET, channels: { data: { whenFull: 'block' } } })).toContain('channels.data.whenFull: must be one of "backpressure", "dropNewest", "dropOldest"; got "block"');
    expect(await badConfig({ name: 'a', secret: SECRET, spawnTimeoutMs: 'soon' })).toContain('spawnTimeoutMs: expected number, got "soon"');
  });

  it('seed addresses are checked: a missing ws://, another scheme, no port', async () => {
    expect(await badConfig({ name: 'a', secret: SECRET, seeds: ['127.0.0.1:4370'] })).toContain("'127.0.0.1:4370' is not an address: use ws://host:port or wss://host:port (write ws://127.0.0.1:4370)");
    expect(await badConfig({ name: 'a', secret: SECRET, seeds: ['http://127.0.0.1:4370'] })).toContain('uses http:');
    expect(await badConfig({ name: 'a', secret: SECRET, seeds: ['ws://127.0.0.1'] })).toContain('has no port');
  });

  it('no name or no secret says where to set it', async () => {
    expect(await badConfig({ secret: SECRET })).toContain('set `name` (or FDN_NAME)');
    expect(await badConfig({ name: 'a' })).toContain('FDN_SECRET');
  });

  it('a readonly configuration (as const) is accepted', async () => {
    const config = { name: 'ro', secret: SECRET, seeds: [] as readonly string[], overlay: { kind: 'static', members: [] } } as const;
    const node = await startNode(config);
    started.push(node);
    expect(node.name).toBe('ro');
  });

  it('every option key of the schema is a key of NodeOptions, and the other way round', () => {
    const keys: (keyof NodeOptions)[] = ['name', 'secret', 'listen', 'seeds', 'overlay', 'channels', 'reliable', 'spawnTimeoutMs', 'reconnectGraceMs', 'advertise', 'spawnLimits', 'checkpointDir', 'loadReportMs', 'topology', 'failureDetector', 'heartbeatMs', 'tls', 'handleSignals', 'drainTimeoutMs', 'appVersion', 'logLevel', 'logFormat', 'transport', 'clock', 'random', 'logger', 'checkpointStore'];
    expect([...NODE_OPTION_KEYS].sort()).toEqual([...keys].sort());
  });
});

describe('listening', () => {
  it('a port in use is FDN_ERR_LISTEN_FAILED saying which and what to do (not a raw EADDRINUSE)', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const err = (await startNode({ name: 'a', secret: SECRET, listen: { port } }).catch((e: unknown) => e)) as { code: string; message: string };
      expect(err.code).toBe('FDN_ERR_LISTEN_FAILED');
      expect(err.message).toContain(`port ${String(port)} on 127.0.0.1 is already in use`);
      expect(err.message).toContain('pick another port, or 0');
    } finally {
      blocker.close();
    }
  });
});

describe('the environment', () => {
  it('reads FDN_NAME, FDN_SECRET, FDN_LISTEN and FDN_SEEDS; FDN_SECRET_FILE from a file', () => {
    expect(optionsFromEnvironment({ FDN_NAME: 'n1', FDN_SECRET: SECRET, FDN_LISTEN: '0.0.0.0:4370', FDN_SEEDS: 'ws://a:1, ws://b:2' })).toEqual({ name: 'n1', secret: SECRET, listen: { host: '0.0.0.0', port: 4370 }, seeds: ['ws://a:1', 'ws://b:2'] });
    expect(optionsFromEnvironment({ FDN_LISTEN: '4371' })).toEqual({ listen: { port: 4371 } });
    const dir = mkdtempSync(join(tmpdir(), 'fdn-secret-'));
    writeFileSync(join(dir, 'secret'), `${SECRET}\n`);
    expect(optionsFromEnvironment({ FDN_SECRET_FILE: join(dir, 'secret') })).toEqual({ secret: SECRET });
    expect(() => optionsFromEnvironment({ FDN_LISTEN: 'everywhere' })).toThrow(expect.objectContaining({ code: DistributionErrorCode.BAD_CONFIG, message: expect.stringContaining('FDN_LISTEN=everywhere') as string }) as Error);
    expect(() => optionsFromEnvironment({ FDN_SECRET: SECRET, FDN_SECRET_FILE: '/x' })).toThrow(expect.objectContaining({ code: DistributionErrorCode.BAD_CONFIG }) as Error);
  });

  it('startNode fills what the options leave out from the environment; options win', async () => {
    const saved = { ...process.env };
    process.env.FDN_NAME = 'from-env';
    process.env.FDN_SECRET = SECRET;
    try {
      const a = await startNode({ logger: memoryLogger() });
      started.push(a);
      expect(a.name).toBe('from-env');
      const b = await startNode({ name: 'explicit' });
      started.push(b);
      expect(b.name).toBe('explicit');
    } finally {
      process.env = saved;
    }
  });

  it('loadNodeConfig: file, profile, environment, overrides, in that order; the file is checked like options', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fdn-config-'));
    const path = join(dir, 'fdn.config.json');
    writeFileSync(path, JSON.stringify({ name: 'from-file', secret: SECRET, listen: { port: 0 }, profiles: { prod: { seeds: ['ws://seed:4370'] } } }));
    const options = loadNodeConfig(path, { profile: 'prod', env: { FDN_LISTEN: '4375' }, overrides: { name: 'override' } });
    expect(options).toMatchObject({ name: 'override', listen: { port: 4375 }, seeds: ['ws://seed:4370'], overlay: { kind: 'hyparview' } });
    writeFileSync(path, JSON.stringify({ name: 'n', secret: SECRET, sedes: [] }));
    expect(() => loadNodeConfig(path, { env: {} })).toThrow(expect.objectContaining({ message: expect.stringContaining("sedes: unknown option (did you mean 'seeds'?)") as string }) as Error);
  });
});

describe('joining nobody is loud', () => {
  it('joined() rejects with FDN_ERR_NOT_JOINED and each seed’s reason; a warning is logged, then repeated with backoff', async () => {
    const logger = memoryLogger();
    // A port nobody listens on.
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const port = (free.address() as { port: number }).port;
    await new Promise<void>((resolve) => free.close(() => { resolve(); }));
    const node = await startNode({ name: 'lonely', secret: SECRET, seeds: [`ws://127.0.0.1:${String(port)}`], logger });
    started.push(node);
    const err = (await node.joined({ timeoutMs: 1_500 }).catch((e: unknown) => e)) as { code: string; message: string };
    expect(err.code).toBe(DistributionErrorCode.NOT_JOINED);
    expect(err.message).toContain(`ws://127.0.0.1:${String(port)}`);
    expect(err.message).toContain('Check the seed addresses');
    const warnings = logger.entries.filter((e) => e.level === 'warn' && e.message.includes('has not joined the cluster'));
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    // Backoff: over 1.5 s of retries, not one warning per retry.
    expect(warnings.length).toBeLessThanOrEqual(2);
  });

  it('joined() resolves once connected, and at once for a node without seeds', async () => {
    const a = await startNode({ name: 'first', secret: SECRET });
    started.push(a);
    await a.joined({ timeoutMs: 100 });
    const b = await startNode({ name: 'second', secret: SECRET, seeds: [a.addresses[0] as string] });
    started.push(b);
    await b.joined({ timeoutMs: 5_000 });
    expect(b.nodes()).toEqual(['first']);
  });

  it('a wrong secret is logged clearly, but not on every attempt: with backoff (20 attempts, a few lines)', async () => {
    const hostLog = memoryLogger();
    const wrongLog = memoryLogger();
    const a = await startNode({ name: 'host', secret: SECRET, logger: hostLog });
    started.push(a);
    const b = await startNode({ name: 'wrong', secret: 'another-secret', logger: wrongLog });
    started.push(b);
    let refused = 0;
    for (let i = 0; i < 20; i++) await b.join(a.addresses[0] as string).catch(() => refused++);
    expect(refused).toBe(20);
    const lines = wrongLog.entries.filter((e) => e.message.includes('does not prove the cluster secret'));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines[0]?.message).toContain('check that both nodes are configured with the same secret');
    expect(lines.length).toBeLessThanOrEqual(3);
    expect(hostLog.entries.filter((e) => e.message.includes('refused')).length).toBeLessThanOrEqual(3);
  });
});

describe('the process factory', () => {
  it('registering something that is not a behaviour, a body or a spawnable is FDN_ERR_BAD_CONFIG saying what is accepted', async () => {
    const node = await startNode({ name: 'factory', secret: SECRET });
    started.push(node);
    for (const bad of [42, null, 'worker', { handleCall: () => null }, { kind: 'actor' }]) {
      expect(() => {
        node.factory.register('w', bad as never);
      }).toThrow(expect.objectContaining({ code: DistributionErrorCode.BAD_CONFIG, message: expect.stringMatching(/behaviour|kind/) as string }) as Error);
    }
  });
});

describe('the configuration file schema', () => {
  it('schema/node-config.schema.json is generated from the options schema and up to date (npm run schema -w @fdn/distribution)', async () => {
    const { readFileSync } = await import('node:fs');
    const { nodeConfigJsonSchema } = await import('../../src/config/json-schema.ts');
    const onDisk = JSON.parse(readFileSync(new URL('../../schema/node-config.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(nodeConfigJsonSchema())));
    const properties = onDisk.properties as Record<string, unknown>;
    for (const key of ['name', 'secret', 'listen', 'seeds', 'overlay', 'channels', 'tls', 'handleSignals', 'profiles']) expect(properties).toHaveProperty(key);
    expect(onDisk.additionalProperties).toBe(false);
  });
});
