// Opt-in diagnostics for benchmarks (FDN_BENCH_DIAG=1): event-loop delay and GC pauses of this
// process, to find where latency comes from.

import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

export interface Diagnostics {
  report(label: string): string;
  reset(): void;
}

export function startDiagnostics(): Diagnostics | null {
  if (process.env.FDN_BENCH_DIAG === undefined) return null;
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  let gcCount = 0;
  let gcTotal = 0;
  let gcMax = 0;
  const kinds = new Map<number, number>();
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcCount++;
      gcTotal += e.duration;
      gcMax = Math.max(gcMax, e.duration);
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1;
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  return {
    report: (label) =>
      `${label}: loop delay p50 ${(loop.percentile(50) / 1e6).toFixed(2)} ms, p99 ${(loop.percentile(99) / 1e6).toFixed(2)} ms, max ${(loop.max / 1e6).toFixed(2)} ms; ` +
      `gc ${gcCount}× total ${gcTotal.toFixed(1)} ms, max ${gcMax.toFixed(2)} ms, kinds ${JSON.stringify(Object.fromEntries(kinds))}`,
    reset: () => {
      loop.reset();
      gcCount = 0;
      gcTotal = 0;
      gcMax = 0;
      kinds.clear();
    },
  };
}
