// What other nodes can make this node hold through remote spawn: a cap on the node's processes,
// on the live processes of each behaviour, and a rate per peer (a token bucket). A spawn past any of
// them is refused with FDN_ERR_SPAWN_REFUSED saying which limit and what it is, and nothing starts.

import type { Pid, RemoteEndpoint } from '@fdn/actors';
import type { Clock } from '@fdn/core';
import { DistributionError, DistributionErrorCode } from '../errors/errors.ts';

/** Bounds on remote spawns (the `spawnLimits` node option). */
export interface SpawnLimits {
  /** Spawns are refused while the node runs this many processes or more (default 1,000,000). */
  maxProcesses?: number;
  /** Live spawned processes of one behaviour (default 100,000; a behaviour's own `maxProcesses` at registration can lower it). */
  perBehaviour?: number;
  /** Remote spawns one peer may make per second, with bursts of twice as many (default 1,000). */
  perPeerPerSecond?: number;
}

/** Admits or refuses spawns against the node's limits, and counts the live spawned processes per behaviour. */
export class SpawnLimiter {
  readonly #maxProcesses: number;
  readonly #perBehaviour: number;
  readonly #rate: number;
  readonly #live = new Map<string, number>();
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly node: string,
    readonly clock: Pick<Clock, 'now'>,
    limits: SpawnLimits = {},
    readonly behaviourCap: (behaviour: string) => number | undefined = () => undefined,
  ) {
    this.#maxProcesses = limits.maxProcesses ?? 1_000_000;
    this.#perBehaviour = limits.perBehaviour ?? 100_000;
    this.#rate = limits.perPeerPerSecond ?? 1_000;
  }

  /** Throws FDN_ERR_SPAWN_REFUSED if a spawn of `behaviour` asked by `from` would pass a limit. */
  admit(from: string, behaviour: string, processCount: number): void {
    if (processCount >= this.#maxProcesses) throw this.#refused(`${this.node} runs ${String(processCount)} processes, its limit (spawnLimits.maxProcesses ${String(this.#maxProcesses)})`);
    const cap = Math.min(this.#perBehaviour, this.behaviourCap(behaviour) ?? Number.POSITIVE_INFINITY);
    const live = this.#live.get(behaviour) ?? 0;
    if (live >= cap) throw this.#refused(`${this.node} runs ${String(live)} '${behaviour}' processes, the limit for that behaviour`);
    if (from === this.node) return;
    const now = this.clock.now();
    let bucket = this.#buckets.get(from);
    if (bucket === undefined) {
      if (this.#buckets.size > 10_000) this.#buckets.clear();
      this.#buckets.set(from, (bucket = { tokens: 2 * this.#rate, at: now }));
    }
    bucket.tokens = Math.min(2 * this.#rate, bucket.tokens + ((now - bucket.at) / 1_000) * this.#rate);
    bucket.at = now;
    if (bucket.tokens < 1) throw this.#refused(`${from} spawns faster than ${String(this.#rate)} per second on ${this.node} (spawnLimits.perPeerPerSecond); slow down and retry`);
    bucket.tokens -= 1;
  }

  /** Counts a started process of `behaviour` until it exits. */
  started(behaviour: string, pid: Pid, endpoint: Pick<RemoteEndpoint, 'onExit'>): void {
    this.#live.set(behaviour, (this.#live.get(behaviour) ?? 0) + 1);
    const counted = endpoint.onExit(pid, () => {
      this.#live.set(behaviour, (this.#live.get(behaviour) ?? 1) - 1);
    });
    if (counted === null) this.#live.set(behaviour, (this.#live.get(behaviour) ?? 1) - 1);
  }

  /** Live spawned processes of `behaviour`. */
  live(behaviour: string): number {
    return this.#live.get(behaviour) ?? 0;
  }

  #refused(why: string): DistributionError {
    return new DistributionError(DistributionErrorCode.SPAWN_REFUSED, `spawn refused: ${why}`);
  }
}
