// The parts of an orderly stop that wait on the outside world: features handing off what they
// run here, queued messages leaving, the overlay's goodbye (bounded: a peer that does not read cannot hold the stop), and the process
// signals that start a stop.

import type { Clock, Logger, TimerHandle } from '@fdn/core';
import type { PeerService, Transport } from '@fdn/topology';
import type { NodeParts } from './assemble.ts';
import { Kind } from './protocol.ts';

/**
 * An orderly stop's steps, in order (see `Node.stop`): peers hear that the node is leaving, features
 * hand off, local services stop, the process trees stop, queued messages leave, then the overlays
 * say goodbye and close.
 */
export async function stopInOrder(parts: NodeParts, peers: readonly string[], handOff: () => Promise<void>, timeoutMs: number): Promise<void> {
  // Peers stop placing work here before this node's processes start to go.
  for (const node of peers) parts.outbound.send(node, [Kind.Leaving]);
  await handOff();
  parts.spawn.stop();
  parts.loads.stop();
  parts.membership.stop();
  await parts.runtime.stop({ timeoutMs });
  // What the stopping processes sent (a channel's first message may still wait for its socket) leaves before the connections close.
  await drainConnections(parts.clock, 2_000, () => parts.outbound.waiting() + queuedOnConnections(parts.transport));
  parts.outbound.stop();
  await parts.overlays.stop();
  await leaveWithin(parts.overlays.current, parts.clock, 2_000, parts.logger);
  await parts.overlays.current.stop();
}

/** Messages queued on every connection and channel now. */
export function queuedOnConnections(transport: Transport): number {
  let n = 0;
  for (const connection of transport.connections()) for (const channel of transport.channels.keys()) n += connection.metrics(channel).queuedMessages;
  return n;
}

/** Waits until `queued()` is 0, at most `maxMs`. */
export async function drainConnections(clock: Clock, maxMs: number, queued: () => number): Promise<void> {
  const deadline = clock.now() + maxMs;
  while (queued() > 0 && clock.now() < deadline) {
    await new Promise<void>((resolve) => clock.setTimer(10, resolve));
  }
}

/** Leaves the cluster gracefully, but never waits longer than `maxMs` on a peer that does not read. */
export async function leaveWithin(overlay: PeerService, clock: Clock, maxMs: number, logger: Logger): Promise<void> {
  let giveUp = (): void => undefined;
  const bound = clock.setTimer(maxMs, () => {
    giveUp();
  });
  await Promise.race([
    overlay.leave().catch((err: unknown) => {
      logger.debug('leaving the cluster failed', { reason: err });
    }),
    new Promise<void>((resolve) => {
      giveUp = resolve;
    }),
  ]);
  clock.clearTimer(bound);
}

/**
 * SIGTERM and SIGINT stop `node` in order, then exit with 0 (a second signal exits at once with
 * 1). Returns the function that removes the handlers.
 */
export function stopOnSignals(node: { readonly name: string; stop(): Promise<void> }, logger: Logger): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn(`${signal} again while stopping: exiting now`);
      process.exit(1);
    }
    stopping = true;
    logger.info(`${signal}: stopping ${node.name} in order`);
    node.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error(`stopping ${node.name} failed`, { reason: err });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}

/** Lets each feature hand off what it runs on `node` (ecosystems move their slots), for at most `limitMs`. */
export async function drainFeatures<N>(features: readonly [{ readonly name: string; drain?(node: N, state: never, deadline: number): Promise<void> }, unknown][], node: N, clock: Clock, limitMs: number, logger: Logger): Promise<void> {
  const deadline = clock.now() + limitMs;
  const drains: Promise<void>[] = [];
  for (const [feature, state] of features) {
    if (feature.drain === undefined) continue;
    drains.push(
      feature.drain(node, state as never, deadline).catch((err: unknown) => {
        logger.warn(`the '${feature.name}' feature did not drain`, { reason: err });
      }),
    );
  }
  if (drains.length === 0) return;
  const timer: { handle: TimerHandle | null } = { handle: null };
  await Promise.race([Promise.all(drains), new Promise<void>((resolve) => (timer.handle = clock.setTimer(limitMs, resolve)))]);
  if (timer.handle !== null) clock.clearTimer(timer.handle);
}
