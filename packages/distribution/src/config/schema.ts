// The node's options as a schema (zod): what `startNode` and `loadNodeConfig` accept, checked
// before anything starts, so every mistake is FDN_ERR_BAD_CONFIG naming the key and what is
// allowed. The same schema documents the options (its descriptions) and types a configuration
// file (`schema/node-config.schema.json`, generated from it; `npm run schema` writes it).
// Objects are strict: an unknown key (a typo such as `listn`) is an error, not ignored.

import { z } from 'zod';

const NAME = /^[A-Za-z0-9_.@-]{1,255}$/;

/** A node name: letters, digits, `_`, `-`, `.`, `@`, up to 255. */
export const nodeName = z.string().regex(NAME, "1–255 letters, digits, '_', '-', '.' or '@'");

/** Where another node listens: `ws://host:port` or `wss://host:port`. */
export const wsAddress = z.string().superRefine((value, ctx) => {
  const problem = addressProblem(value);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});

function addressProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    const guess = /^[\w.-]+:\d+$/.test(value) ? ` (write ws://${value})` : '';
    return `'${value}' is not an address: use ws://host:port or wss://host:port${guess}`;
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return `'${value}' uses ${url.protocol} : use ws://host:port or wss://host:port`;
  if (url.hostname === '') return `'${value}' has no host`;
  if (url.port === '') return `'${value}' has no port: nodes listen on a port of their own (ws://${url.hostname}:4370)`;
  if (url.pathname !== '/' && url.pathname !== '') return `'${value}' has a path: give only ws://host:port`;
  return null;
}

/** Any transport's address (an injected transport, such as the simulator's, has its own scheme). */
export const anyAddress = z.string().regex(/^[a-z][a-z0-9+.-]*:\/\/\S+$/, 'an address is scheme://…');

const port = z.number().int().min(0, 'a port is 0–65535 (0: any free port)').max(65_535, 'a port is 0–65535 (0: any free port)');
const positive = z.number().positive();
const count = z.number().int().min(0);
const ms = z.number().min(0);

const listen = z.union([
  z.literal(false),
  z.strictObject({
    host: z.string().min(1).optional().describe('address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)'),
    port: port.optional().describe('port (default 0: any free port)'),
    backlog: z.number().int().min(1).optional().describe('accept queue (default 4,096)'),
  }),
]);

const channel = z.strictObject({
  parallelism: z.number().int().min(1).max(64).optional().describe('connections per peer (default 1)'),
  priority: z.enum(['high', 'normal', 'low']).optional().describe('default normal'),
  compression: z.union([z.literal('deflate'), z.literal(false)]).optional().describe('permessage-deflate on this channel'),
  monotonic: z.boolean().optional().describe('latest-wins per key'),
  maxQueueBytes: positive.optional().describe('send queue bound per connection, bytes'),
  maxQueueMessages: z.number().int().min(1).optional().describe('send queue bound per connection, messages'),
  whenFull: z.enum(['backpressure', 'dropNewest', 'dropOldest']).optional(),
  chunkSize: z.number().int().min(1_024).optional().describe('large payloads are cut into chunks of this size'),
  lazy: z.boolean().optional().describe('open sockets on first use (default true)'),
  reliability: z.enum(['best_effort', 'at_least_once']).optional(),
  broadcast: z.enum(['direct', 'plumtree']).optional(),
});

/** The address-dependent part of the options: seeds, overlays (their seeds and static members). */
function withAddresses(address: z.ZodType<string>) {
  const peerSpec = z.strictObject({ name: nodeName, addresses: z.array(address).min(1).max(16) });
  const peerServiceOptions = {
    seeds: z.array(z.union([address, peerSpec])).readonly().optional(),
    maxOnDemandConnections: count.optional(),
    onDemandIdleMs: ms.optional(),
  };

  const fullMeshOptions = { ...peerServiceOptions, gossipIntervalMs: positive.optional(), gossipDebounceMs: ms.optional(), redialMs: positive.optional(), maxRedialMs: positive.optional() };

  const hyparviewOptions = {
    ...peerServiceOptions,
    directory: z.boolean().optional(),
    activeSize: z.number().int().min(1).optional(),
    passiveSize: count.optional(),
    arwl: count.optional(),
    prwl: count.optional(),
    shuffleActive: count.optional(),
    shufflePassive: count.optional(),
    shuffleTtl: count.optional(),
    shuffleIntervalMs: positive.optional(),
    promotionIntervalMs: positive.optional(),
    neighborTimeoutMs: positive.optional(),
    retryUnreachableMs: positive.optional(),
    islandCheckMs: positive.optional(),
    reserveSize: count.optional(),
  };

  const overlay = z.union([
    z.enum(['fullMesh', 'hyparview', 'pubSub', 'hidden']),
    z.discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('fullMesh'), ...fullMeshOptions }),
      z.strictObject({ kind: z.literal('hyparview'), ...hyparviewOptions }),
      z.strictObject({ kind: z.literal('pubSub'), ...hyparviewOptions }),
      z.strictObject({ kind: z.literal('clientServer'), role: z.enum(['server', 'client']), ...fullMeshOptions }),
      z.strictObject({ kind: z.literal('static'), members: z.array(peerSpec).readonly(), redialMs: positive.optional(), maxRedialMs: positive.optional(), ...peerServiceOptions }),
      z.strictObject({ kind: z.literal('hidden'), ...peerServiceOptions }),
    ]),
  ]);
  return { peerServiceOptions, overlay };
}

const tls = z.strictObject({
  key: z.union([z.string(), z.instanceof(Buffer)]).describe("this node's private key (PEM)"),
  cert: z.union([z.string(), z.instanceof(Buffer)]).describe("this node's certificate (PEM)"),
  ca: z.union([z.string(), z.instanceof(Buffer), z.array(z.union([z.string(), z.instanceof(Buffer)]))]).optional().describe('certificates to trust'),
  rejectUnauthorized: z.boolean().optional().describe('verify the peer when dialling (default true)'),
  mutual: z.boolean().optional().describe('require a certificate from nodes that dial this one'),
});

const secret = z.union([z.string().min(8, 'the cluster secret must be at least 8 characters'), z.instanceof(Uint8Array).refine((b) => b.length >= 8, 'the cluster secret must be at least 8 bytes')]);

function configShape(address: z.ZodType<string>) {
  const { peerServiceOptions, overlay } = withAddresses(address);
  return {
    name: nodeName.optional().describe('unique in the cluster (or FDN_NAME)'),
    secret: secret.optional().describe('the shared cluster secret, at least 8 characters (or FDN_SECRET / FDN_SECRET_FILE)'),
    listen: listen.optional().describe('where to listen (or FDN_LISTEN)'),
    seeds: peerServiceOptions.seeds.describe('nodes to join through (or FDN_SEEDS)'),
    overlay: overlay.optional(),
    channels: z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'channel names are 1–64 letters, digits, _ . -'), channel).optional(),
    reliable: z.strictObject({ maxUnacked: z.number().int().min(1).optional(), maxUnackedBytes: positive.optional(), ackDelayMs: ms.optional(), resendAfterMs: ms.optional() }).optional(),
    spawnTimeoutMs: positive.optional(),
    reconnectGraceMs: ms.optional().describe('a dropped connection back within this long is not a node loss (default 0)'),
    advertise: z.array(address).min(1).readonly().optional().describe('addresses other nodes should dial to reach this one'),
    spawnLimits: z.strictObject({ maxProcesses: z.number().int().min(0).optional(), perBehaviour: z.number().int().min(0).optional(), perPeerPerSecond: positive.optional() }).optional(),
    checkpointDir: z.string().min(1).optional().describe("where this node keeps failover checkpoints (default: fdn-ecosystems in the OS temp dir)"),
    loadReportMs: ms.optional(),
    topology: z.strictObject({ verifyTimeoutMs: positive.optional(), cooldownMs: ms.optional(), pingSample: count.optional(), servers: z.array(nodeName).optional() }).optional(),
    failureDetector: z.union([z.literal(false), z.strictObject({ threshold: positive.optional(), maxSamples: z.number().int().min(1).optional(), minStdDevMs: positive.optional(), acceptablePauseMs: ms.optional(), firstIntervalMs: positive.optional() })]).optional(),
    heartbeatMs: positive.optional(),
    tls: tls.optional(),
    handleSignals: z.boolean().optional(),
    drainTimeoutMs: ms.optional(),
    appVersion: z.string().min(1).max(64).optional().describe("the application's version, for placement during a rolling upgrade"),
    logLevel: z.enum(['debug', 'info', 'warn', 'error']).optional().describe('the default logger: entries below this level are dropped (default warn)'),
    logFormat: z.enum(['json', 'text']).optional().describe('the default logger: JSON lines through pino (default), or one text line per entry'),
  };
}

const injected = (what: string, method: string) => z.custom<object>((v) => typeof v === 'object' && v !== null && typeof (v as Record<string, unknown>)[method] === 'function', `${what} (an object with ${method}())`);

const injectedShape = {
  transport: injected('a Transport', 'connection').optional(),
  clock: injected('a Clock', 'now').optional(),
  random: injected('a Random', 'next').optional(),
  logger: injected('a Logger', 'warn').optional(),
  checkpointStore: injected('a CheckpointStore', 'save').optional(),
};

/** The options a configuration file can hold (everything but the injected parts). */
export const nodeConfigShape = configShape(wsAddress);

/** Everything `startNode` accepts: the configuration plus injected parts. Addresses are ws:// or wss://. */
export const nodeOptionsSchema = z.strictObject({ ...nodeConfigShape, ...injectedShape });

/** The same with an injected transport: its addresses are its own business (`sim://n1` on the simulator). */
export const nodeOptionsOnTransportSchema = z.strictObject({ ...configShape(anyAddress), ...injectedShape });

/** A configuration file: the options, plus `profiles` laid over them. */
export const nodeConfigFileSchema = z.strictObject({
  $schema: z.string().optional(),
  ...nodeConfigShape,
  profiles: z.record(z.string(), z.strictObject(nodeConfigShape).partial()).optional(),
});

/** The option keys of a node, in the order the README documents them. */
export const NODE_OPTION_KEYS = Object.keys(nodeOptionsSchema.shape);
