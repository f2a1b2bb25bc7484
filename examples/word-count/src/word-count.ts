// The word count itself: the text is cut into chunks (jobs); a worker counts the words of a chunk;
// the coordinator hands chunks to idle workers, adds up the counts, and puts back in the queue
// any chunk whose worker was lost (its node died) or restarted (it crashed) before answering.

import { GenServer } from '@fdn/actors';
import type { GenServerBehaviour, Pid, ProcessContext } from '@fdn/actors';
import type { WorkersChanged } from '@fdn/distribution';

/** Registered in every worker node's process factory under this name. */
export const WORKER = 'wordcount.worker';

export type Counts = Record<string, number>;

export function countWords(text: string): Counts {
  const counts: Counts = {};
  for (const word of text.toLowerCase().split(/[^a-z]+/)) if (word !== '') counts[word] = (counts[word] ?? 0) + 1;
  return counts;
}

/** A chunk of work sent to a worker, and its answer. */
interface Job {
  type: 'job';
  id: number;
  text: string;
  replyTo: Pid;
  slot: number;
}
interface Done {
  type: 'done';
  id: number;
  slot: number;
  counts: Counts;
}

/** A worker: counts a chunk, taking `delayMs` (so a demo has time to lose a node mid-job). */
export const worker: GenServerBehaviour<{ delayMs: number }, { delayMs: number }, never, never, Job> = {
  name: 'word-count worker',
  init: (args) => ({ type: 'ok', state: { delayMs: args.delayMs } }),
  handleCast: async (job, state, ctx) => {
    await new Promise((r) => setTimeout(r, state.delayMs));
    ctx.send(job.replyTo, { type: 'done', id: job.id, slot: job.slot, counts: countWords(job.text) } satisfies Done);
    return { type: 'noreply', state };
  },
};

export interface CoordinatorArgs {
  chunks: string[];
  /** Told when everything is counted. */
  notify: Pid;
  /** Told of every event worth showing (progress, requeues). */
  observer?: Pid;
}

interface CoordinatorState {
  chunks: string[];
  queue: number[];
  /** slot → the worker there now, and the chunk it is on (null: idle). */
  workers: Map<number, { pid: Pid; node: string; job: number | null }>;
  totals: Counts;
  done: Set<number>;
  requeued: number;
  notify: Pid;
  observer: Pid | null;
}

export type CoordinatorEvent =
  | { type: 'progress'; done: number; total: number; workers: Record<string, number> }
  | { type: 'requeued'; id: number; why: string }
  | { type: 'finished'; totals: Counts; requeued: number };

/** The coordinator: a queue of chunk ids, the live workers by slot, the running totals. */
export const coordinator: GenServerBehaviour<CoordinatorState, CoordinatorArgs, 'status', { done: number; total: number; requeued: number }, never> = {
  name: 'word-count coordinator',
  init: (args) => ({
    type: 'ok',
    state: { chunks: args.chunks, queue: args.chunks.map((_, i) => i), workers: new Map(), totals: {}, done: new Set(), requeued: 0, notify: args.notify, observer: args.observer ?? null },
  }),
  handleCall: (_req, _from, state) => ({ type: 'reply', reply: { done: state.done.size, total: state.chunks.length, requeued: state.requeued }, state }),
  handleInfo: (msg, state, ctx) => {
    // Anything else (a stray message) is ignored.
    const m = msg as WorkersChanged | Done | { type?: undefined };
    if (m.type === 'ecosystem.workers') {
      // A worker lost with its node, or restarted on it, will not answer: its chunk goes back.
      const gone = m.change.kind === 'lost' || m.change.kind === 'restarted' || m.change.kind === 'retired' ? m.change.slot : null;
      const before = gone === null ? undefined : state.workers.get(gone);
      if (before?.job != null) requeue(state, before.job, `${m.change.kind === 'lost' ? 'lost with node' : 'worker restarted on'} ${m.change.node}`, ctx);
      const next = new Map<number, { pid: Pid; node: string; job: number | null }>();
      for (const w of m.workers) {
        const had = state.workers.get(w.slot);
        next.set(w.slot, { pid: w.pid, node: w.node, job: had?.pid.equals(w.pid) === true ? had.job : null });
      }
      state.workers = next;
    } else if (m.type === 'done') {
      const w = state.workers.get(m.slot);
      if (w?.job === m.id) w.job = null;
      if (!state.done.has(m.id)) {
        state.done.add(m.id);
        // An answer that arrives after its chunk was put back: the copy in the queue is not needed.
        state.queue = state.queue.filter((id) => id !== m.id);
        for (const [word, n] of Object.entries(m.counts)) state.totals[word] = (state.totals[word] ?? 0) + n;
      }
      if (state.observer !== null) {
        const perNode: Record<string, number> = {};
        for (const x of state.workers.values()) perNode[x.node] = (perNode[x.node] ?? 0) + 1;
        ctx.send(state.observer, { type: 'progress', done: state.done.size, total: state.chunks.length, workers: perNode } satisfies CoordinatorEvent);
      }
      if (state.done.size === state.chunks.length) ctx.send(state.notify, { type: 'finished', totals: state.totals, requeued: state.requeued } satisfies CoordinatorEvent);
    }
    dispatch(state, ctx);
    return { type: 'noreply', state };
  },
};

function requeue(state: CoordinatorState, id: number, why: string, ctx: ProcessContext): void {
  if (state.done.has(id) || state.queue.includes(id)) return;
  state.queue.unshift(id);
  state.requeued++;
  if (state.observer !== null) ctx.send(state.observer, { type: 'requeued', id, why } satisfies CoordinatorEvent);
}

/** Every idle worker gets the next chunk. */
function dispatch(state: CoordinatorState, ctx: ProcessContext): void {
  for (const [slot, w] of state.workers) {
    if (w.job !== null) continue;
    const id = state.queue.shift();
    if (id === undefined) return;
    w.job = id;
    GenServer.cast(ctx, w.pid, { type: 'job', id, text: state.chunks[id] as string, replyTo: ctx.self, slot } satisfies Job);
  }
}
