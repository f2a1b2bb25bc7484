import { createRuntime, GenServer, Supervisor } from '@fdn/actors';
import { memoryLogger } from '@fdn/core';
import { describe, expect, it } from 'vitest';
import { COORDINATOR, startApp, WORKERS } from '../src/app.ts';
import type { Stats } from '../src/coordinator.ts';
import { compute, makeJobs } from '../src/jobs.ts';

describe('example: supervised job queue', () => {
  it('finishes every job; crashed workers are restarted and their jobs retried', async () => {
    const log = memoryLogger();
    const rt = createRuntime({ node: 'jobs', logger: log });
    const jobs = makeJobs(40);
    const stats = await rt.run(async (ctx) => {
      const app = await startApp(ctx, 4);
      await GenServer.call(ctx, COORDINATOR, { type: 'submit', jobs });
      const result = await GenServer.call<Stats>(ctx, COORDINATOR, { type: 'awaitAll' }, 10_000);
      const pool = await Supervisor.countChildren(ctx, WORKERS);
      await GenServer.stop(ctx, app, 'shutdown');
      return { result, pool };
    });
    expect(stats.result.done).toBe(40);
    for (const job of jobs) expect(stats.result.results[job.id]).toBe(compute(job.input));
    // Jobs 5, 10, …, 40 crash once and job 7 twice: 10 crashes, each retried.
    expect(stats.result.workersLost).toBe(10);
    expect(stats.result.retries).toBe(10);
    expect(stats.pool.active).toBe(4);
    expect(log.entries.filter((e) => e.message.startsWith('GenServer')).length).toBe(10);
    expect(rt.processCount).toBe(0);
  });
});
