// Processes: how many, in which state, mailboxes (total and the longest ones), estimated memory;
// the scheduler: reductions used and the run queue; the event loop's utilisation.

import type { ProcessInfo } from '@fdn/actors';
import type { MetricGroup } from './group.ts';
import { counterOnScrape, gaugeOnScrape, perScrape } from './group.ts';

/** How many of the longest mailboxes `fdn_mailbox_top_messages` lists. */
export const TOP_MAILBOXES = 10;

/** One pass over the processes per scrape, shared by the gauges of this group. */
function survey(infos: Iterable<ProcessInfo | undefined>): { byStatus: Map<string, number>; queued: number; memory: number; top: ProcessInfo[] } {
  const byStatus = new Map<string, number>();
  let queued = 0;
  let memory = 0;
  const top: ProcessInfo[] = [];
  for (const info of infos) {
    if (info === undefined) continue;
    byStatus.set(info.status, (byStatus.get(info.status) ?? 0) + 1);
    queued += info.messageQueueLen;
    memory += info.memory;
    if (info.messageQueueLen === 0) continue;
    top.push(info);
    if (top.length > 4 * TOP_MAILBOXES) {
      top.sort((a, b) => b.messageQueueLen - a.messageQueueLen);
      top.length = TOP_MAILBOXES;
    }
  }
  top.sort((a, b) => b.messageQueueLen - a.messageQueueLen);
  top.length = Math.min(top.length, TOP_MAILBOXES);
  return { byStatus, queued, memory, top };
}

export const runtimeMetrics: MetricGroup = {
  name: 'runtime',
  register(registry, node) {
    const runtime = node.runtime;
    const current = perScrape(() => survey(runtime.processes().map((pid) => runtime.processInfo(pid))));
    gaugeOnScrape(registry, 'fdn_processes', 'Processes alive on this node, by status (starting, runnable, waiting, running).', ['status'], (set) => {
      for (const [status, n] of current().byStatus) set({ status }, n);
    });
    gaugeOnScrape(registry, 'fdn_mailbox_messages', 'Messages waiting in all mailboxes of this node.', [], (set) => {
      set({}, current().queued);
    });
    gaugeOnScrape(registry, 'fdn_mailbox_top_messages', `Messages waiting in the ${String(TOP_MAILBOXES)} longest mailboxes (pid, registered name, behaviour).`, ['pid', 'name', 'behaviour'], (set) => {
      for (const p of current().top) set({ pid: p.pid.toString(), name: p.registeredName ?? '', behaviour: p.behaviour ?? '' }, p.messageQueueLen);
    });
    gaugeOnScrape(registry, 'fdn_process_memory_bytes', 'Estimated bytes held by all processes (a measured base cost plus mailboxes, links and monitors; not a heap walk).', [], (set) => {
      set({}, current().memory);
    });
    counterOnScrape(registry, 'fdn_reductions_total', 'Reductions used by all processes since the node started: messages handled, starts and resumptions (Erlang\'s statistics(reductions), coarser).', [], (set) => {
      set({}, runtime.reductions);
    });
    // Utilisation since the previous scrape (prom-client measures the event loop's lag, not how busy it is).
    let lastElu = performance.eventLoopUtilization();
    gaugeOnScrape(registry, 'fdn_event_loop_utilization', 'Share of the time since the previous scrape the event loop spent running code (0–1), not waiting for I/O.', [], (set) => {
      const now = performance.eventLoopUtilization();
      set({}, performance.eventLoopUtilization(now, lastElu).utilization);
      lastElu = now;
    });
    gaugeOnScrape(registry, 'fdn_run_queue_length', 'Processes with work waiting for their turn in the scheduler (Erlang\'s statistics(run_queue)).', [], (set) => {
      set({}, runtime.runQueueLength);
    });
  },
};
