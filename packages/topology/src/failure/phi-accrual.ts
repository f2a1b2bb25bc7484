// The φ accrual failure detector (Hayashibara et al. 2004), as Akka and Cassandra use it: instead
// of a yes/no timeout, a suspicion level φ that grows with the time since the last heartbeat,
// measured against the distribution of past inter-arrival times. φ = 8 means the chance that a
// heartbeat is merely late is 10⁻⁸. A connection whose peer stops answering is declared failed when φ
// passes the threshold; a slow but steady peer raises its own mean and is not.

export interface PhiAccrualOptions {
  /** Suspect the peer when φ exceeds this (default 8: Akka's and Cassandra's). */
  threshold?: number;
  /** Inter-arrival samples kept (default 1,000). */
  maxSamples?: number;
  /** Floor of the standard deviation (default 100 ms), so a very regular peer is not suspected for tiny delays. */
  minStdDevMs?: number;
  /** A pause this long is tolerated on top of the mean (default 3,000 ms: GC, a busy event loop). */
  acceptablePauseMs?: number;
  /** The expected interval before any sample (default 1,000 ms). */
  firstIntervalMs?: number;
}

export class PhiAccrual {
  readonly threshold: number;
  readonly #max: number;
  readonly #minStd: number;
  readonly #pause: number;
  /** A ring of intervals, with running sums for the mean and variance. */
  readonly #intervals: number[] = [];
  #next = 0;
  #sum = 0;
  #sumSquares = 0;
  #last: number | null = null;

  constructor(options: PhiAccrualOptions = {}) {
    this.threshold = options.threshold ?? 8;
    this.#max = options.maxSamples ?? 1_000;
    this.#minStd = options.minStdDevMs ?? 100;
    this.#pause = options.acceptablePauseMs ?? 3_000;
    // Seeded as Akka does: two samples around the first estimate, standard deviation a quarter of it.
    const first = options.firstIntervalMs ?? 1_000;
    this.#add(first - first / 4);
    this.#add(first + first / 4);
  }

  /** A heartbeat arrived at `now`. */
  heartbeat(now: number): void {
    if (this.#last !== null && now >= this.#last) this.#add(now - this.#last);
    this.#last = now;
  }

  /** The suspicion level at `now` (0 before the first heartbeat). */
  phi(now: number): number {
    return this.#last === null ? 0 : this.phiAfter(now - this.#last);
  }

  /** The suspicion level after `silenceMs` without a sign of life (a caller may count more than heartbeats as signs). */
  phiAfter(silenceMs: number): number {
    const n = this.#intervals.length;
    const mean = this.#sum / n;
    const std = Math.max(this.#minStd, Math.sqrt(Math.max(0, this.#sumSquares / n - mean * mean)));
    return phi(silenceMs, mean + this.#pause, std);
  }

  /** True while φ is at or under the threshold. */
  isAvailable(now: number): boolean {
    return this.phi(now) <= this.threshold;
  }

  #add(interval: number): void {
    if (this.#intervals.length < this.#max) {
      this.#intervals.push(interval);
    } else {
      const old = this.#intervals[this.#next] as number;
      this.#sum -= old;
      this.#sumSquares -= old * old;
      this.#intervals[this.#next] = interval;
      this.#next = (this.#next + 1) % this.#max;
    }
    this.#sum += interval;
    this.#sumSquares += interval * interval;
  }
}

/** −log10 of the chance that a heartbeat comes later than `elapsed`, normal(mean, std) by a logistic approximation (Akka's). */
function phi(elapsed: number, mean: number, std: number): number {
  const y = (elapsed - mean) / std;
  const e = Math.exp(-y * (1.5976 + 0.070566 * y * y));
  return elapsed > mean ? -Math.log10(e / (1 + e)) : -Math.log10(1 - 1 / (1 + e));
}
