// Validation of supervisor and child specs, before anything starts: a typo is an error, not a
// silent default.

import { InvalidChildSpecError } from '../errors.ts';
import type { AnyChildSpec, ChildType, RestartType, Shutdown, Strategy, SupervisorSpec } from './types.ts';

/** @internal A child spec with every default filled in. */
export interface NormalizedChildSpec {
  id: string;
  start: (...args: unknown[]) => unknown;
  restart: RestartType;
  shutdown: Shutdown;
  type: ChildType;
}

/** @internal */
export interface NormalizedSupervisorSpec {
  strategy: Strategy;
  intensity: number;
  periodMs: number;
  children: NormalizedChildSpec[];
}

const STRATEGIES: readonly Strategy[] = ['oneForOne', 'oneForAll', 'restForOne', 'simpleOneForOne'];
const RESTARTS: readonly RestartType[] = ['permanent', 'transient', 'temporary'];
const TYPES: readonly ChildType[] = ['worker', 'supervisor'];
const CHILD_KEYS = new Set(['id', 'start', 'restart', 'shutdown', 'type']);
const SPEC_KEYS = new Set(['strategy', 'intensity', 'periodMs', 'children']);

/**
 * Checks a supervisor spec and fills defaults; throws `InvalidChildSpecError`
 * (`FDN_ERR_INVALID_CHILD_SPEC`) naming the first problem.
 */
export function normalizeSupervisorSpec(spec: SupervisorSpec): NormalizedSupervisorSpec {
  if (typeof spec !== 'object' || spec === null) throw new InvalidChildSpecError(`a supervisor spec must be an object, got ${typeof spec}`);
  for (const key of Object.keys(spec)) {
    if (!SPEC_KEYS.has(key)) throw new InvalidChildSpecError(`unknown supervisor option '${key}' (expected ${[...SPEC_KEYS].join(', ')})`);
  }
  const strategy = spec.strategy ?? 'oneForOne';
  if (!STRATEGIES.includes(strategy)) throw new InvalidChildSpecError(`unknown strategy '${String(strategy)}' (expected ${STRATEGIES.join(', ')})`);
  const intensity = spec.intensity ?? 1;
  if (!Number.isInteger(intensity) || intensity < 0) throw new InvalidChildSpecError(`intensity must be an integer ≥ 0, got ${String(intensity)}`);
  const periodMs = spec.periodMs ?? 5_000;
  if (typeof periodMs !== 'number' || !(periodMs > 0)) throw new InvalidChildSpecError(`periodMs must be a number > 0, got ${String(periodMs)}`);
  if (!Array.isArray(spec.children)) throw new InvalidChildSpecError('children must be an array of child specs');
  if (strategy === 'simpleOneForOne' && spec.children.length !== 1) {
    throw new InvalidChildSpecError(`simpleOneForOne takes exactly one child spec (the template), got ${spec.children.length}`);
  }
  const children = spec.children.map((c) => normalizeChildSpec(c));
  const seen = new Set<string>();
  for (const c of children) {
    if (seen.has(c.id)) throw new InvalidChildSpecError(`duplicate child id '${c.id}'`);
    seen.add(c.id);
  }
  return { strategy, intensity, periodMs, children };
}

/** Checks one child spec and fills its defaults. */
export function normalizeChildSpec(spec: AnyChildSpec): NormalizedChildSpec {
  if (typeof spec !== 'object' || spec === null) throw new InvalidChildSpecError(`a child spec must be an object, got ${typeof spec}`);
  for (const key of Object.keys(spec)) {
    if (!CHILD_KEYS.has(key)) throw new InvalidChildSpecError(`child spec has an unknown field '${key}' (expected ${[...CHILD_KEYS].join(', ')})`);
  }
  const { id } = spec;
  if (typeof id !== 'string' || id.length === 0) throw new InvalidChildSpecError(`child spec id must be a non-empty string, got ${String(id)}`);
  if (typeof spec.start !== 'function') throw new InvalidChildSpecError(`child '${id}': start must be a function returning a pid, got ${typeof spec.start}`);
  const restart = spec.restart ?? 'permanent';
  if (!RESTARTS.includes(restart)) throw new InvalidChildSpecError(`child '${id}': unknown restart '${String(restart)}' (expected ${RESTARTS.join(', ')})`);
  const type = spec.type ?? 'worker';
  if (!TYPES.includes(type)) throw new InvalidChildSpecError(`child '${id}': unknown type '${String(type)}' (expected worker or supervisor)`);
  const shutdown = spec.shutdown ?? (type === 'supervisor' ? 'infinity' : 5_000);
  if (shutdown !== 'brutal_kill' && shutdown !== 'infinity' && !(Number.isInteger(shutdown) && shutdown >= 0)) {
    throw new InvalidChildSpecError(`child '${id}': shutdown must be 'brutal_kill', 'infinity' or an integer number of ms ≥ 0, got ${String(shutdown)}`);
  }
  return { id, start: spec.start as (...args: unknown[]) => unknown, restart, shutdown, type };
}
