// What strategies share: their events, their current peers, a stop that silences them, and (for
// those that ask a source from time to time) a polling loop that backs off on failure and keeps
// the last good answer: a DNS server that times out or an API that says 403 must not make the
// cluster forget its members (libcluster's Kubernetes strategy disconnects everyone on a 403).

import { Emitter, heldBack, LogThrottle } from '@fdn/core';
import type { TimerHandle } from '@fdn/core';
import { ClusterError, ClusterErrorCode } from '../errors.ts';
import { normalisePeers, samePeers } from './peers.ts';
import type { Peer, Strategy, StrategyComponents, StrategyEvents } from './strategy.ts';

/** Events, peers and lifecycle of a strategy; subclasses call `setPeers` and `fail`. */
export abstract class BaseStrategy implements Strategy {
  abstract readonly kind: string;
  protected readonly components: StrategyComponents;
  readonly #events: Emitter<StrategyEvents>;
  readonly #throttle: LogThrottle;
  #peers: readonly Peer[] = [];
  #state: 'new' | 'started' | 'stopped' = 'new';
  #starting: Promise<void> | null = null;

  constructor(components: StrategyComponents) {
    this.components = components;
    this.#events = new Emitter<StrategyEvents>((event, err) => {
      components.logger.error(`a '${event}' listener of a discovery strategy threw`, { reason: err });
    });
    this.#throttle = new LogThrottle(components.clock);
  }

  get running(): boolean {
    return this.#state === 'started';
  }

  start(): Promise<void> {
    if (this.#state === 'stopped') return Promise.resolve();
    this.#starting ??= (async () => {
      this.#state = 'started';
      await this.begin();
    })();
    return this.#starting;
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    const wasRunning = this.#state === 'started';
    this.#state = 'stopped';
    this.#events.clear();
    if (wasRunning) await this.end();
  }

  peers(): readonly Peer[] {
    return this.#peers;
  }

  on<E extends keyof StrategyEvents>(event: E, listener: StrategyEvents[E]): () => void {
    return this.#events.on(event, listener);
  }

  /** Starts the source (the first look included). */
  protected abstract begin(): Promise<void>;
  /** Stops the source: close sockets, cancel timers. */
  protected abstract end(): Promise<void>;

  /** The source's answer: emitted when it differs from the last one. */
  protected setPeers(peers: Iterable<Peer>): void {
    if (this.#state !== 'started') return;
    const next = normalisePeers(peers, this.components.self);
    if (samePeers(next, this.#peers)) return;
    this.#peers = next;
    this.#events.emit('peers', next);
  }

  /** Asking the source failed: logged (with backoff on repeats) and emitted; the peers stay as they were. */
  protected fail(error: ClusterError): void {
    if (this.#state !== 'started') return;
    const held = this.#throttle.occurrence(`${error.code}:${error.message}`);
    if (held !== null) this.components.logger.warn(`discovery (${this.kind}): ${error.message}${heldBack(held)}`, { code: error.code });
    this.#events.emit('error', error);
  }
}

/** Timing of a polling strategy. */
export interface PollingOptions {
  /** Between two looks at the source (default 5,000 ms, libcluster's). */
  pollingIntervalMs?: number;
  /** The longest wait between retries after failures (default 30,000 ms); the first retry is after 1 s, doubling. */
  maxBackoffMs?: number;
}

/** A strategy that asks its source every `pollingIntervalMs`, and sooner (1 s, doubling) after a failure. */
export abstract class PollingStrategy extends BaseStrategy {
  readonly #intervalMs: number;
  readonly #maxBackoffMs: number;
  #timer: TimerHandle | null = null;
  #failures = 0;
  #polls = 0;

  constructor(options: PollingOptions, components: StrategyComponents) {
    super(components);
    this.#intervalMs = options.pollingIntervalMs ?? 5_000;
    this.#maxBackoffMs = options.maxBackoffMs ?? 30_000;
  }

  /** How many looks at the source so far (for tests and diagnostics). */
  get polls(): number {
    return this.#polls;
  }

  /** One look at the source: the peers it lists now. Throw a ClusterError to say what went wrong. */
  protected abstract lookup(): Promise<Peer[]>;

  protected async begin(): Promise<void> {
    await this.#poll();
  }

  protected end(): Promise<void> {
    if (this.#timer !== null) this.components.clock.clearTimer(this.#timer);
    this.#timer = null;
    return Promise.resolve();
  }

  async #poll(): Promise<void> {
    this.#timer = null;
    this.#polls++;
    try {
      const peers = await this.lookup();
      this.#failures = 0;
      this.setPeers(peers);
    } catch (err) {
      this.#failures++;
      this.fail(err instanceof ClusterError ? err : new ClusterError(ClusterErrorCode.DISCOVERY_FAILED, `${err instanceof Error ? err.message : String(err)}; retrying`, { cause: err }));
    }
    if (!this.running) return;
    this.#timer = this.components.clock.setTimer(this.#nextDelay(), () => void this.#poll());
  }

  #nextDelay(): number {
    if (this.#failures === 0) return this.#intervalMs;
    const backoff = Math.min(this.#maxBackoffMs, 1_000 * 2 ** (this.#failures - 1));
    // ±20 % so that nodes that failed together do not retry together.
    return Math.min(backoff, this.#intervalMs * 2 ** (this.#failures - 1)) * (0.8 + 0.4 * this.components.random.next());
  }
}
