// How a node's parts are made and joined: the transport and runtime, the dispatcher and the send
// path, membership, the overlays, remote signals and spawn, the registries, switching and load
// reports; which message kinds each handles, and in which order they hear of a node's loss. The
// facade (node.ts) holds the parts and exposes the public API.

import { createRuntime } from '@fdn/actors';
import type { Pid, RemoteEndpoint, Runtime } from '@fdn/actors';
import { consoleLogger, pinoLogger, systemClock, systemRandom } from '@fdn/core';
import type { Clock, Logger, Random } from '@fdn/core';
import { createWsTransport, DEFAULT_CHANNEL } from '@fdn/topology';
import type { Transport } from '@fdn/topology';
import { Codec } from '../codec/codec.ts';
import { LoadReports } from '../load/load-reports.ts';
import { Overlays } from '../overlay/overlays.ts';
import { GlobalRegistry } from '../registry/global.ts';
import { ProcessGroups } from '../registry/groups.ts';
import { RemoteSignals } from '../signals/remote-signals.ts';
import { RemoteSpawn } from '../spawn/remote-spawn.ts';
import { nodeSwitcher } from '../switching/node-switcher.ts';
import type { TopologySwitcher } from '../switching/switcher.ts';
import { transportChannels } from './channels.ts';
import { Dispatcher } from './dispatch.ts';
import { InboundGate } from './inbound-gate.ts';
import { Membership } from './membership.ts';
import type { NodeOptions } from './options.ts';
import { Outbound } from './outbound.ts';
import { Kind } from './protocol.ts';
import { Router } from './routing.ts';

/** A node's parts, made and joined by {@link assemble}. */
export interface NodeParts {
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly transport: Transport;
  readonly runtime: Runtime;
  readonly codec: Codec;
  readonly dispatch: Dispatcher;
  readonly routes: Router;
  readonly membership: Membership;
  readonly overlays: Overlays;
  readonly outbound: Outbound;
  readonly endpoint: RemoteEndpoint;
  readonly inbound: InboundGate;
  readonly global: GlobalRegistry;
  readonly pg: ProcessGroups;
  readonly spawn: RemoteSpawn;
  readonly switcher: TopologySwitcher;
  readonly loads: LoadReports;
}

/** Makes the parts of a node with checked `options` and joins them (nothing starts yet). */
export function assemble(options: NodeOptions & { name: string; secret: string | Uint8Array }): NodeParts {
  const clock = options.clock ?? systemClock();
  const random = options.random ?? systemRandom();
  // Without a logger of the user's: JSON lines through pino, bound to the node's name (or text lines).
  const logger = options.logger ?? (options.logFormat === 'text' ? consoleLogger({ level: options.logLevel ?? 'warn' }) : pinoLogger({ level: options.logLevel ?? 'warn', bindings: { node: options.name } }));
  // Validated even with an injected transport: a channel's node-level options must make sense.
  const channels = options.channels === undefined ? undefined : transportChannels(options.channels);
  const transport =
    options.transport ??
    createWsTransport(
      {
        name: options.name,
        secret: options.secret,
        ...(options.listen === undefined ? {} : { listen: options.listen }),
        ...(channels === undefined ? {} : { channels }),
        ...(options.failureDetector === undefined ? {} : { failureDetector: options.failureDetector }),
        ...(options.heartbeatMs === undefined ? {} : { pingIntervalMs: options.heartbeatMs }),
        ...(options.tls === undefined ? {} : { tls: options.tls }),
        ...(options.advertise === undefined ? {} : { advertise: [...options.advertise] }),
        ...(options.appVersion === undefined ? {} : { appVersion: options.appVersion }),
      },
      { clock, logger: logger.child({ component: 'transport' }), random },
    );
  const runtime = createRuntime({ node: options.name, incarnation: transport.self.incarnation, clock, logger, random });
  const codec = new Codec(runtime);
  const dispatch = new Dispatcher(codec, clock, logger);
  const receiveFrame = (from: string, payload: Buffer): void => {
    dispatch.receiveFrame(from, payload);
  };
  // Straight from the peer service to the dispatcher, one receiver per channel, then the inbound gate.
  const receivers = new Map<string, (from: string, payload: Buffer) => void>();
  const receiverFor = (channel: string): ((from: string, payload: Buffer) => void) => {
    let r = receivers.get(channel);
    if (r === undefined) {
      r = dispatch.receiverFor(channel, (from, c) => {
        inbound.afterMessage(from, c);
      });
      receivers.set(channel, r);
    }
    return r;
  };

  const atLeastOnce = new Set<string>();
  const broadcastModes = new Map<string, 'direct' | 'plumtree'>();
  for (const name of transport.channels.keys()) {
    const c = options.channels?.[name];
    if (c?.reliability === 'at_least_once') atLeastOnce.add(name);
    if (c?.broadcast !== undefined) broadcastModes.set(name, c.broadcast);
  }
  const routes = new Router(new Set([...transport.channels.keys()].filter((c) => c !== 'control')));

  const membership = new Membership(
    { name: options.name, runtime, clock, logger, connectionIncarnation: (node) => transport.connection(node)?.peer.incarnation, nodes: () => overlays.nodes(), stopped: () => outbound.stopped },
    options.reconnectGraceMs ?? 0,
  );
  const overlays = new Overlays(
    {
      name: options.name,
      transport,
      clock,
      random,
      logger,
      receiveFrame,
      receiverFor,
      up: (node) => {
        membership.up(node);
      },
      down: (node, kind) => {
        membership.down(node, kind);
      },
      send: (node, m) => outbound.send(node, m),
      adopted: (record) => {
        switcher.record(record);
      },
    },
    { overlay: options.overlay, seeds: options.seeds ?? [], servers: options.topology?.servers, broadcastModes },
  );
  const outbound = new Outbound({ codec, transport, clock, logger, overlay: () => overlays.current, deliver: receiveFrame }, atLeastOnce, options.reliable);
  const send = (node: string, m: readonly [Kind, ...unknown[]]): void => {
    outbound.send(node, m);
  };
  const explain = (node: string): string => membership.explainNoconnection(node);
  const isUp = (node: string): boolean => overlays.current.isUp(node);

  const signals: RemoteSignals = new RemoteSignals({
    runtime,
    send: (node, m, channel, partitionKey) => outbound.send(node, m, channel, partitionKey),
    route: (msg) => routes.route(msg) ?? DEFAULT_CHANNEL,
    isParallel: (channel) => outbound.isParallel(channel),
    isUp,
    resolveGlobal: (name): Pid | undefined => global.whereis(name),
    explainNoconnection: explain,
  });
  const inbound = new InboundGate({ endpoint: signals.endpoint, connection: (node) => transport.connection(node) });
  const global: GlobalRegistry = new GlobalRegistry({
    runtime,
    endpoint: signals.endpoint,
    clock,
    logger: logger.child({ component: 'global' }),
    nodes: () => overlays.nodes(),
    sendRegistry: (node, m) => {
      send(node, [Kind.Registry, m]);
    },
    broadcastRegistry: (nodes, m) => {
      outbound.sendToAll(nodes, [Kind.Registry, m]);
    },
  });
  const pg = new ProcessGroups({
    runtime,
    endpoint: signals.endpoint,
    nodes: () => overlays.nodes(),
    sendGroups: (node, m) => {
      send(node, [Kind.Groups, m]);
    },
    broadcastGroups: (nodes, m) => {
      outbound.sendToAll(nodes, [Kind.Groups, m]);
    },
  });
  const spawn = new RemoteSpawn({ name: options.name, runtime, clock, signals, send, isUp, explainNoconnection: explain }, options.spawnLimits, options.spawnTimeoutMs ?? 5_000);
  const switcher = nodeSwitcher({ name: options.name, clock, random, codec, overlays, nodes: () => overlays.nodes(), send, mayReach: (node) => !outbound.stopped && !outbound.isBlocked(node) }, dispatch, options.topology ?? {});
  const loads = new LoadReports({ runtime, clock, nodes: () => overlays.nodes(), send }, options.loadReportMs ?? 1_000);

  // What arrives, by kind.
  signals.register(dispatch);
  spawn.register(dispatch);
  dispatch.register(Kind.Registry, (from, m) => {
    global.receive(from, m[1]);
  });
  dispatch.register(Kind.Groups, (from, m) => {
    pg.receive(from, m[1]);
  });
  dispatch.register(
    Kind.Reliable,
    (from, m, rest) => {
      outbound.receiveReliable(from, m, rest);
    },
    { rest: true },
  );
  dispatch.register(Kind.Load, (from, m) => {
    loads.receive(from, m);
  });
  dispatch.register(Kind.Leaving, (from) => {
    membership.markLeaving(from);
  });

  // Nodes coming and going, in this order: what is in flight to a lost node fails first.
  membership.onUp((node) => {
    global.nodeUp(node);
    pg.nodeUp(node);
  });
  membership.onLost((node, why) => {
    spawn.nodeLost(node, why);
    switcher.nodeDown(node);
    overlays.nodeLost(node);
    global.nodeDown(node);
    pg.nodeDown(node);
    loads.nodeLost(node);
    signals.nodeLost(node);
  });
  transport.on('connectionUp', (connection) => {
    membership.connectionUp(connection);
    outbound.reliable.connectionUp(connection.peer.name, connection.peer.incarnation);
    // A node behind on switches (it joined late, or missed a commit) adopts the newer overlay.
    if (overlays.topo.epoch > 0) overlays.tellEpochTo(connection.peer.name);
  });
  return { clock, random, logger, transport, runtime, codec, dispatch, routes, membership, overlays, outbound, endpoint: signals.endpoint, inbound, global, pg, spawn, switcher, loads };
}
