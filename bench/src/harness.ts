// The benchmark contract (BENCHMARKS.md): repeated measurements, medians with their spread, a
// table that puts each figure beside its peers with the ratio, and bench/results/<suite>.json.

import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One suite's options, from the command line. */
export interface SuiteOptions {
  quick: boolean;
}

/** A measured metric: every sample and the median. */
export interface Metric {
  key: string;
  samples: number[];
  median: number;
  unit: string;
}

/** A suite's results as written to bench/results/<suite>.json. */
export interface SuiteResult {
  suite: string;
  quick: boolean;
  date: string;
  node: string;
  cpus: number;
  repetitions: number;
  metrics: Record<string, number>;
  samples: Record<string, number[]>;
  notes: string[];
}

/** The median of `xs` (mean of the middle two for even counts). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Collects metrics for a suite and writes them out. */
export class Recorder {
  readonly #metrics = new Map<string, Metric>();
  readonly notes: string[] = [];

  constructor(
    readonly suite: string,
    readonly options: SuiteOptions,
    readonly repetitions: number,
  ) {}

  /** Records one sample of `key`. */
  add(key: string, value: number, unit: string): void {
    let m = this.#metrics.get(key);
    if (m === undefined) this.#metrics.set(key, (m = { key, samples: [], median: 0, unit }));
    m.samples.push(value);
    m.median = median(m.samples);
  }

  get(key: string): Metric | undefined {
    return this.#metrics.get(key);
  }

  /** Prints rows of `[label, metric suffix, implementations]` with ratios to the first one. */
  table(title: string, rows: { label: string; metric: string; impls: string[] }[]): void {
    const lines: string[][] = [['figure', ...rows[0]?.impls.map((i) => i) ?? [], 'ratios']];
    for (const row of rows) {
      const values = row.impls.map((impl) => this.#metrics.get(`${impl}.${row.metric}`));
      const first = values[0];
      const cells = values.map((v) => (v === undefined ? '–' : `${format(v.median)} ${v.unit}${spread(v)}`));
      const ratios = values
        .slice(1)
        .map((v, i) => (v === undefined || first === undefined || v.median === 0 ? '' : `${(first.median / v.median).toFixed(2)}× ${row.impls[i + 1] ?? ''}`))
        .filter((r) => r !== '')
        .join(', ');
      lines.push([row.label, ...cells, ratios]);
    }
    const widths = lines[0]?.map((_c, i) => Math.max(...lines.map((l) => (l[i] ?? '').length))) ?? [];
    console.log(`\n${title}`);
    for (const [i, l] of lines.entries()) {
      console.log(l.map((c, j) => c.padEnd(widths[j] ?? 0)).join('  '));
      if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    }
  }

  /** Writes bench/results/<suite>.json (or into FDN_BENCH_RESULTS_DIR) and returns its path. */
  write(): string {
    const result: SuiteResult = {
      suite: this.suite,
      quick: this.options.quick,
      date: new Date().toISOString(),
      node: process.version,
      cpus: availableParallelism(),
      repetitions: this.repetitions,
      metrics: Object.fromEntries([...this.#metrics.values()].map((m) => [m.key, round(m.median)])),
      samples: Object.fromEntries([...this.#metrics.values()].map((m) => [m.key, m.samples.map(round)])),
      notes: this.notes,
    };
    const here = dirname(fileURLToPath(import.meta.url));
    // FDN_BENCH_RESULTS_DIR: elsewhere than the committed results (the test that runs every suite).
    const path = join(process.env.FDN_BENCH_RESULTS_DIR ?? join(here, '..', 'results'), `${this.suite}.json`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, JSON.stringify(result, null, 2) + '\n');
    return path;
  }
}

function round(x: number): number {
  return Math.abs(x) >= 100 ? Math.round(x) : Math.round(x * 1000) / 1000;
}

function format(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e4) return `${(x / 1e3).toFixed(0)} k`;
  return x >= 100 ? x.toFixed(0) : x.toFixed(2);
}

function spread(m: Metric): string {
  if (m.samples.length < 2) return '';
  const lo = Math.min(...m.samples);
  const hi = Math.max(...m.samples);
  return m.median === 0 ? '' : ` (±${(((hi - lo) / 2 / m.median) * 100).toFixed(0)}%)`;
}

/** Runs a full garbage collection if node was started with --expose-gc. */
export function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Resolves after the event loop has turned, so pending work settles between measurements. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
