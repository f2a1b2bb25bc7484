// A worker: a GenServer that announces itself to the coordinator, takes one job at a time, and
// crashes when a job says so. Its supervisor restarts it; the coordinator retries the job.

import { GenServer } from '@fdn/actors';
import type { GenServerBehaviour, NoReplyResult, Pid } from '@fdn/actors';
import { compute } from './jobs.ts';
import type { Assignment } from './jobs.ts';

/** Messages the coordinator receives from workers. */
export type WorkerReport = { type: 'ready'; worker: Pid } | { type: 'result'; worker: Pid; jobId: number; output: number };

interface WorkerState {
  coordinator: string;
}

/** How long a job takes, in ms of the runtime clock. */
const WORK_MS = 5;

export const worker: GenServerBehaviour<WorkerState, { coordinator: string }, never, never, Assignment> = {
  init: ({ coordinator }, ctx) => {
    GenServer.cast(ctx, coordinator, { type: 'ready', worker: ctx.self } satisfies WorkerReport);
    return { type: 'ok', state: { coordinator } };
  },

  handleCast: (assignment, state, ctx): NoReplyResult<WorkerState> => {
    // Work takes time: finish it when the timer fires, staying responsive meanwhile.
    ctx.sendAfter(ctx.self, assignment, WORK_MS);
    return { type: 'noreply', state };
  },

  handleInfo: (msg, state, ctx): NoReplyResult<WorkerState> => {
    const { job, attempt } = msg as Assignment;
    if (job.crashesOnAttempts?.includes(attempt) === true) throw new Error(`worker crashed on job ${job.id} (attempt ${attempt})`);
    GenServer.cast(ctx, state.coordinator, { type: 'result', worker: ctx.self, jobId: job.id, output: compute(job.input) } satisfies WorkerReport);
    return { type: 'noreply', state };
  },
};
