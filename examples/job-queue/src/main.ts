// Runs the job queue: submits jobs (some crash their worker), waits for all results, and prints
// what supervision did. `npm start` in this folder.

import { createRuntime, formatReason, GenServer } from '@fdn/actors';
import type { Logger } from '@fdn/core';
import { COORDINATOR, startApp } from './app.ts';
import type { Stats } from './coordinator.ts';
import { compute, makeJobs } from './jobs.ts';

/** One line per crash report: enough to see supervision at work. */
const logger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message) => {
    console.log(`  warn: ${message}`);
  },
  error: (message, fields) => {
    if (message.startsWith('GenServer')) console.log(`  crash: ${formatReason(fields?.reason)} -> the supervisor restarts the worker`);
  },
  child: () => logger,
};

const rt = createRuntime({ node: 'jobs', logger });
const jobs = makeJobs(40);

const stats = await rt.run(async (ctx) => {
  const app = await startApp(ctx, 4);
  console.log(`started the job queue (supervisor ${app}) with 4 workers; submitting ${jobs.length} jobs`);
  await GenServer.call(ctx, COORDINATOR, { type: 'submit', jobs });
  const result = await GenServer.call<Stats>(ctx, COORDINATOR, { type: 'awaitAll' }, 30_000);
  await GenServer.stop(ctx, app, 'shutdown');
  return result;
});

const wrong = jobs.filter((j) => stats.results[j.id] !== compute(j.input));
console.log(`\n${stats.done}/${stats.submitted} jobs done, ${stats.retries} retried after ${stats.workersLost} worker crashes, ${wrong.length} wrong results`);
process.exitCode = stats.done === jobs.length && wrong.length === 0 ? 0 : 1;
