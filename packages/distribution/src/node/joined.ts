// Waiting for a node to be part of a cluster (`Node.joined`): a nodeup, or an error that says what
// the seeds answered.

import { DistributionError, DistributionErrorCode } from '../errors/errors.ts';
import type { NodeParts } from './assemble.ts';

/**
 * Resolves on the first nodeup (at once if connected, or if the overlay has no seeds and is not
 * static: a cluster of its own); rejects with FDN_ERR_NOT_JOINED after `timeoutMs`, naming the last
 * seed's failure. The overlay keeps trying meanwhile.
 */
export function whenJoined(parts: NodeParts, name: string, connected: () => number, timeoutMs: number): Promise<void> {
  const overlay = parts.overlays.current;
  const status = overlay.joinStatus();
  if (connected() > 0 || (status.seeds === 0 && overlay.kind !== 'static')) return Promise.resolve();
  const clock = parts.clock;
  return new Promise<void>((resolve, reject) => {
    const done = (): void => {
      off();
      clock.clearTimer(timer);
    };
    const off = parts.membership.onNodeEvent((e) => {
      if (e.type !== 'nodeup') return;
      done();
      resolve();
    });
    const timer = clock.setTimer(timeoutMs, () => {
      done();
      const s = parts.overlays.current.joinStatus();
      const why = s.lastFailure === null ? 'no seed has answered yet' : `the last seed to fail: ${s.lastFailure}`;
      reject(new DistributionError(DistributionErrorCode.NOT_JOINED, `${name} has not joined the cluster within ${String(timeoutMs)} ms (${String(s.attempts)} rounds through ${String(s.seeds)} seeds; ${why}). Check the seed addresses (ws://host:port), that a seed runs, and that every node has the same secret`));
    });
  });
}
