// The supervision tree: a simpleOneForOne supervisor for the worker pool, then the coordinator.
// One-for-all: if either gives up, both restart together, so a new coordinator never inherits
// workers it does not know about.

import { GenServer, Supervisor } from '@fdn/actors';
import type { Caller, Pid, SupervisorSpec } from '@fdn/actors';
import { coordinator } from './coordinator.ts';
import { worker } from './worker.ts';

export const COORDINATOR = 'coordinator';
export const WORKERS = 'workers';

/** The application's supervision tree. */
export function appSpec(poolSize: number): SupervisorSpec {
  return {
    strategy: 'oneForAll',
    intensity: 3,
    periodMs: 10_000,
    children: [
      {
        id: WORKERS,
        type: 'supervisor',
        start: (ctx) =>
          Supervisor.startLink(
            ctx,
            {
              strategy: 'simpleOneForOne',
              // Workers crash on purpose in this demo; give them room before escalating.
              intensity: 20,
              periodMs: 1_000,
              // Workers find the coordinator by name: a restarted coordinator has a new pid.
              children: [{ id: 'worker', start: (c) => GenServer.startLink(c, worker, { coordinator: COORDINATOR }) }],
            },
            { name: WORKERS },
          ),
      },
      {
        id: COORDINATOR,
        start: (ctx) => GenServer.startLink(ctx, coordinator, { poolSize, workersSupervisor: WORKERS }, { name: COORDINATOR }),
      },
    ],
  };
}

/** Starts the application under `caller`; resolves with the top supervisor's pid. */
export function startApp(caller: Caller, poolSize = 4): Promise<Pid> {
  return Supervisor.start(caller, appSpec(poolSize), { name: 'job-queue' });
}
