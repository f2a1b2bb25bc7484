// The coordinator: a GenServer that owns the job queue, starts the worker pool through the
// workers supervisor, hands jobs to idle workers, and retries the job of a worker that died.

import { GenServer, Supervisor, isDownMessage } from '@fdn/actors';
import type { CallResult, From, GenServerBehaviour, NoReplyResult, Pid, ProcessContext } from '@fdn/actors';
import type { Job } from './jobs.ts';
import type { WorkerReport } from './worker.ts';

/** Requests the coordinator answers. */
export type CoordinatorCall = { type: 'submit'; jobs: Job[] } | { type: 'awaitAll' } | { type: 'stats' };

/** What `stats` and `awaitAll` report. */
export interface Stats {
  submitted: number;
  done: number;
  queued: number;
  inFlight: number;
  retries: number;
  workersLost: number;
  results: Record<number, number>;
}

interface State {
  poolSize: number;
  workersSupervisor: string;
  queue: { job: Job; attempt: number }[];
  idle: Pid[];
  /** What each busy worker is doing (pids of live local processes work as Map keys). */
  busy: Map<Pid, { job: Job; attempt: number }>;
  attempts: Map<number, number>;
  results: Map<number, number>;
  submitted: number;
  retries: number;
  workersLost: number;
  waiting: From[];
}

export interface CoordinatorArgs {
  poolSize: number;
  workersSupervisor: string;
}

export const coordinator: GenServerBehaviour<State, CoordinatorArgs, CoordinatorCall, unknown, WorkerReport> = {
  init: ({ poolSize, workersSupervisor }) => ({
    type: 'ok',
    state: { poolSize, workersSupervisor, queue: [], idle: [], busy: new Map(), attempts: new Map(), results: new Map(), submitted: 0, retries: 0, workersLost: 0, waiting: [] },
    // Start the pool after init returns, so whoever started us is not kept waiting.
    continue: 'startPool',
  }),

  handleContinue: async (_arg, state, ctx) => {
    for (let i = 0; i < state.poolSize; i++) await Supervisor.startChild(ctx, state.workersSupervisor, []);
    return { type: 'noreply', state };
  },

  handleCall: (req, from, state, ctx): CallResult<State, unknown> => {
    switch (req.type) {
      case 'submit':
        for (const job of req.jobs) state.queue.push({ job, attempt: 1 });
        state.submitted += req.jobs.length;
        dispatch(state, ctx);
        return { type: 'reply', reply: 'ok', state };
      case 'awaitAll':
        if (allDone(state)) return { type: 'reply', reply: stats(state), state };
        // Answer later, from handleCast, when the last result comes in.
        state.waiting.push(from);
        return { type: 'noreply', state };
      case 'stats':
        return { type: 'reply', reply: stats(state), state };
    }
  },

  handleCast: (report, state, ctx): NoReplyResult<State> => {
    if (report.type === 'ready') {
      ctx.monitor(report.worker);
      state.idle.push(report.worker);
    } else {
      state.busy.delete(report.worker);
      state.results.set(report.jobId, report.output);
      state.idle.push(report.worker);
    }
    dispatch(state, ctx);
    if (allDone(state)) {
      for (const from of state.waiting) GenServer.reply(from, stats(state));
      state.waiting = [];
    }
    return { type: 'noreply', state };
  },

  handleInfo: (msg, state, ctx): NoReplyResult<State> => {
    if (!isDownMessage(msg)) return { type: 'noreply', state };
    // A worker died. Its supervisor restarts it (the new one announces itself with 'ready');
    // the job it was doing goes back to the front of the queue.
    state.workersLost++;
    state.idle = state.idle.filter((w) => !w.equals(msg.pid));
    const lost = state.busy.get(msg.pid);
    if (lost !== undefined) {
      state.busy.delete(msg.pid);
      state.retries++;
      state.queue.unshift({ job: lost.job, attempt: lost.attempt + 1 });
    }
    dispatch(state, ctx);
    return { type: 'noreply', state };
  },
};

function dispatch(state: State, ctx: ProcessContext): void {
  while (state.idle.length > 0 && state.queue.length > 0) {
    const worker = state.idle.shift() as Pid;
    const next = state.queue.shift() as { job: Job; attempt: number };
    state.busy.set(worker, next);
    state.attempts.set(next.job.id, next.attempt);
    GenServer.cast(ctx, worker, next);
  }
}

function allDone(state: State): boolean {
  return state.submitted > 0 && state.results.size === state.submitted;
}

function stats(state: State): Stats {
  return {
    submitted: state.submitted,
    done: state.results.size,
    queued: state.queue.length,
    inFlight: state.busy.size,
    retries: state.retries,
    workersLost: state.workersLost,
    results: Object.fromEntries(state.results),
  };
}
