// Shared by the distribution tests: bounded waits, and nodes stopped after each test.

import { afterEach } from 'vitest';
import type { Node } from '../src/index.ts';

/** Waits until `cond` holds, checking every `everyMs`; fails naming `what` after `timeoutMs`. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000, everyMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Nodes started by a test file; every one is stopped after each test. */
export function stoppedAfterEach(): Node[] {
  const started: Node[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((n) => n.stop()));
  });
  return started;
}

/** What a node's runtime emits under `prefix` (telemetry), in order: `[event, measurements, metadata]`. */
export function recordTelemetry(node: Node, prefix: string): [string, Record<string, number>, Record<string, unknown>][] {
  const seen: [string, Record<string, number>, Record<string, unknown>][] = [];
  node.runtime.telemetry.attach(prefix, (event, measurements, metadata) => seen.push([event, { ...measurements }, { ...metadata }]));
  return seen;
}
