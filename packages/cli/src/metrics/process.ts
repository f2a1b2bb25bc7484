// The Node.js process, without prom-client's GC observer: CPU, memory, heap, event-loop delay,
// uptime, version, under prom-client's own names (dashboards made for it work). prom-client's
// `collectDefaultMetrics` also times every garbage collection through a PerformanceObserver, which
// cost ~7 % of a GC-heavy ping-pong (measured alternating with and without, four runs each); its
// full set is `processMetrics: 'full'`.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { MetricGroup } from './group.ts';
import { counterOnScrape, gaugeOnScrape } from './group.ts';

const startSeconds = Math.round(performance.timeOrigin / 1000);

export const nodeProcessMetrics: MetricGroup = {
  name: 'process',
  register(registry) {
    counterOnScrape(registry, 'process_cpu_user_seconds_total', 'User CPU time spent in seconds.', [], (set) => {
      set({}, process.cpuUsage().user / 1e6);
    });
    counterOnScrape(registry, 'process_cpu_system_seconds_total', 'System CPU time spent in seconds.', [], (set) => {
      set({}, process.cpuUsage().system / 1e6);
    });
    counterOnScrape(registry, 'process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', [], (set) => {
      const cpu = process.cpuUsage();
      set({}, (cpu.user + cpu.system) / 1e6);
    });
    gaugeOnScrape(registry, 'process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', [], (set) => {
      set({}, startSeconds);
    });
    gaugeOnScrape(registry, 'process_resident_memory_bytes', 'Resident memory size in bytes.', [], (set) => {
      set({}, process.memoryUsage.rss());
    });
    const memory = (name: string, help: string, pick: (m: NodeJS.MemoryUsage) => number): void => {
      gaugeOnScrape(registry, name, help, [], (set) => {
        set({}, pick(process.memoryUsage()));
      });
    };
    memory('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', (m) => m.heapTotal);
    memory('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', (m) => m.heapUsed);
    memory('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', (m) => m.external);
    // The delay histogram since the previous scrape (reset after each), sampled every 10 ms as prom-client does.
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const lag = (name: string, help: string, pick: () => number): void => {
      gaugeOnScrape(registry, name, help, [], (set) => {
        const v = pick();
        if (Number.isFinite(v)) set({}, v / 1e9);
      });
    };
    lag('nodejs_eventloop_lag_mean_seconds', 'The mean of the recorded event loop delays (since the previous scrape).', () => delay.mean);
    lag('nodejs_eventloop_lag_p50_seconds', 'The 50th percentile of the recorded event loop delays.', () => delay.percentile(50));
    lag('nodejs_eventloop_lag_p99_seconds', 'The 99th percentile of the recorded event loop delays.', () => delay.percentile(99));
    lag('nodejs_eventloop_lag_max_seconds', 'The maximum recorded event loop delay (since the previous scrape).', () => {
      const max = delay.max;
      // The last of this scrape's readers: the next scrape starts a fresh histogram.
      queueMicrotask(() => {
        delay.reset();
      });
      return max;
    });
    gaugeOnScrape(registry, 'nodejs_version_info', 'Node.js version info.', ['version', 'major', 'minor', 'patch'], (set) => {
      const [major, minor, patch] = process.versions.node.split('.');
      set({ version: process.version, major: major ?? '', minor: minor ?? '', patch: patch ?? '' }, 1);
    });
    return () => {
      delay.disable();
    };
  },
};
