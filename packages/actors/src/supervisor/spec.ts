// Validation of supervisor and child specs, before anything starts: a typo is an error, not a
// silent default.

import { InvalidChildSpecError } from '../errors.ts';
import { toJson } from '../util/inspect.ts';
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
 * (`FDN_ERR_INVALID_CHILD_SPEC`) naming the first problem. Written against `unknown`: specs
 * come from JavaScript callers and configuration as often as from typed code.
 */
export function normalizeSupervisorSpec(input: SupervisorSpec): NormalizedSupervisorSpec {
  const spec = asRecord(input, 'a supervisor spec');
  for (const key of Object.keys(spec)) {
    if (!SPEC_KEYS.has(key)) throw new InvalidChildSpecError(`unknown supervisor option '${key}' (expected ${[...SPEC_KEYS].join(', ')})`);
  }
  const strategy = spec.strategy ?? 'oneForOne';
  if (!isOneOf(strategy, STRATEGIES)) throw new InvalidChildSpecError(`unknown strategy '${show(strategy)}' (expected ${STRATEGIES.join(', ')})`);
  const intensity = spec.intensity ?? 1;
  if (typeof intensity !== 'number' || !Number.isInteger(intensity) || intensity < 0) {
    throw new InvalidChildSpecError(`intensity must be an integer ≥ 0, got ${show(intensity)}`);
  }
  const periodMs = spec.periodMs ?? 5_000;
  if (typeof periodMs !== 'number' || !(periodMs > 0)) throw new InvalidChildSpecError(`periodMs must be a number > 0, got ${show(periodMs)}`);
  const children: unknown = spec.children;
  if (!Array.isArray(children)) throw new InvalidChildSpecError('children must be an array of child specs');
  if (strategy === 'simpleOneForOne' && children.length !== 1) {
    throw new InvalidChildSpecError(`simpleOneForOne takes exactly one child spec (the template), got ${children.length}`);
  }
  const normalized = children.map((c: unknown) => normalizeChildSpec(c as AnyChildSpec));
  const seen = new Set<string>();
  for (const c of normalized) {
    if (seen.has(c.id)) throw new InvalidChildSpecError(`duplicate child id '${c.id}'`);
    seen.add(c.id);
  }
  return { strategy, intensity, periodMs, children: normalized };
}

/** Checks one child spec and fills its defaults. */
export function normalizeChildSpec(input: AnyChildSpec): NormalizedChildSpec {
  const spec = asRecord(input, 'a child spec');
  for (const key of Object.keys(spec)) {
    if (!CHILD_KEYS.has(key)) throw new InvalidChildSpecError(`child spec has an unknown field '${key}' (expected ${[...CHILD_KEYS].join(', ')})`);
  }
  const id = spec.id;
  if (typeof id !== 'string' || id.length === 0) throw new InvalidChildSpecError(`child spec id must be a non-empty string, got ${show(id)}`);
  const start = spec.start;
  if (typeof start !== 'function') throw new InvalidChildSpecError(`child '${id}': start must be a function returning a pid, got ${typeof start}`);
  const restart = spec.restart ?? 'permanent';
  if (!isOneOf(restart, RESTARTS)) throw new InvalidChildSpecError(`child '${id}': unknown restart '${show(restart)}' (expected ${RESTARTS.join(', ')})`);
  const type = spec.type ?? 'worker';
  if (!isOneOf(type, TYPES)) throw new InvalidChildSpecError(`child '${id}': unknown type '${show(type)}' (expected worker or supervisor)`);
  const shutdown = spec.shutdown ?? (type === 'supervisor' ? 'infinity' : 5_000);
  if (shutdown !== 'brutal_kill' && shutdown !== 'infinity' && !(typeof shutdown === 'number' && Number.isInteger(shutdown) && shutdown >= 0)) {
    throw new InvalidChildSpecError(`child '${id}': shutdown must be 'brutal_kill', 'infinity' or an integer number of ms ≥ 0, got ${show(shutdown)}`);
  }
  return { id, start: start as (...args: unknown[]) => unknown, restart, shutdown, type };
}

function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidChildSpecError(`${what} must be an object, got ${show(value)}`);
  return value as Record<string, unknown>;
}

function isOneOf<T extends string>(value: unknown, allowed: readonly T[]): value is T {
  return typeof value === 'string' && (allowed as readonly string[]).includes(value);
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : (toJson(value) ?? typeof value);
}
