// Shared test set-up: a runtime on a virtual clock with a memory logger.

import { VirtualClock, memoryLogger } from '@fdn/core';
import { createRuntime } from '../src/index.ts';
import type { Runtime, RuntimeOptions } from '../src/index.ts';

export interface TestRuntime {
  rt: Runtime;
  clock: VirtualClock;
  log: ReturnType<typeof memoryLogger>;
}

export function testRuntime(options: RuntimeOptions = {}): TestRuntime {
  const clock = new VirtualClock();
  const log = memoryLogger();
  const rt = createRuntime({ node: 'test', incarnation: 1, clock, logger: log, ...options });
  return { rt, clock, log };
}

/** Lets every runnable process run until the runtime is idle. */
export async function settle(rt: Runtime): Promise<void> {
  await rt.idle();
}

/** A deferred value that a test can resolve from inside a process. */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
