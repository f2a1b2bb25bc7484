// Node options checked against the schema, before anything starts: a mistake is
// FDN_ERR_BAD_CONFIG naming the key (its whole path), what was given and what is allowed, with a
// guess for a misspelt key. Every mistake is listed at once, not the first only.

import { closestWord } from '@fdn/core';
import type { z } from 'zod';
import { DistributionError, DistributionErrorCode } from '../errors/errors.ts';
import { nodeConfigFileSchema, nodeOptionsOnTransportSchema, nodeOptionsSchema } from './schema.ts';

/** Throws FDN_ERR_BAD_CONFIG if `options` are not valid node options (`where` names their source in the message). */
export function checkNodeOptions(options: unknown, where = 'startNode options'): void {
  const given = typeof options === 'object' && options !== null ? (options as { transport?: unknown; overlay?: unknown }) : {};
  // An overlay of your own (a function) is code, not configuration: the schema checks the rest.
  const checked = typeof given.overlay === 'function' ? { ...given, overlay: undefined } : options;
  check(given.transport === undefined ? nodeOptionsSchema : nodeOptionsOnTransportSchema, checked, where);
}

/** Throws FDN_ERR_BAD_CONFIG if `file` is not a valid configuration file. */
export function checkConfigFile(file: unknown, where: string): void {
  check(nodeConfigFileSchema, file, where);
}

function check(schema: z.ZodType, value: unknown, where: string): void {
  current = schema;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `${where} must be an object`);
  const result = schema.safeParse(value);
  if (result.success) return;
  const lines = result.error.issues.slice(0, 10).map((issue) => describe(issue, value));
  const more = result.error.issues.length > 10 ? `\n  … and ${String(result.error.issues.length - 10)} more` : '';
  throw new DistributionError(DistributionErrorCode.BAD_CONFIG, `invalid ${where}:\n  ${lines.join('\n  ')}${more}`);
}

function describe(issue: z.core.$ZodIssue, root: unknown): string {
  const path = issue.path.map((p) => (typeof p === 'number' ? `[${String(p)}]` : `.${String(p)}`)).join('').replace(/^\./, '');
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = parentKeys(issue, root);
      return issue.keys
        .map((key) => {
          const guess = closestWord(key, allowed);
          const at = path === '' ? key : `${path}.${key}`;
          return `${at}: unknown option${guess === null ? '' : ` (did you mean '${guess}'?)`}${allowed.length > 0 ? `; allowed here: ${allowed.join(', ')}` : ''}`;
        })
        .join('\n  ');
    }
    case 'invalid_type': {
      const given = valueAt(root, issue.path);
      return `${path || '(options)'}: expected ${issue.expected}, got ${shown(given)}`;
    }
    case 'invalid_value':
      return `${path}: must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}; got ${shown(valueAt(root, issue.path))}`;
    case 'invalid_union':
      return `${path}: ${unionMessage(issue, root)}`;
    default:
      return `${path}: ${issue.message}${issue.code === 'too_big' || issue.code === 'too_small' ? `; got ${JSON.stringify(valueAt(root, issue.path))}` : ''}`;
  }
}

/** A union (an address or a spec, a string or an object overlay…): the most specific branch's complaint. */
function unionMessage(issue: z.core.$ZodIssueInvalidUnion, root: unknown): string {
  const given = valueAt(root, issue.path);
  let best: z.core.$ZodIssue[] | undefined;
  for (const branch of issue.errors) {
    // The branch that got furthest into the value (custom checks, nested keys) explains best.
    const depth = Math.max(0, ...branch.map((i) => i.path.length + (i.code === 'invalid_type' ? 0 : 1)));
    const bestDepth = best === undefined ? -1 : Math.max(0, ...best.map((i) => i.path.length + (i.code === 'invalid_type' ? 0 : 1)));
    if (depth > bestDepth) best = branch;
  }
  const first = best?.[0];
  if (first === undefined) return `${shown(given)} is not allowed here`;
  const inner = describe({ ...first, path: [...issue.path, ...first.path] }, root);
  return inner.slice(inner.indexOf(': ') + 2);
}

/** A given value in a message: JSON where it has one, its type otherwise (a function, a symbol). */
function shown(v: unknown): string {
  if (v === undefined) return 'nothing';
  const json = JSON.stringify(v) as string | undefined;
  return json === undefined ? typeof v : json.length > 80 ? `${json.slice(0, 80)}…` : json;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const key of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/** The schema being checked (for the keys allowed where an unknown one was found). */
let current: z.ZodType | null = null;

/** The keys the schema allows at the object where an unknown key was found. */
function parentKeys(issue: z.core.$ZodIssueUnrecognizedKeys, root: unknown): string[] {
  const schema = current === null ? null : objectAt(current, issue.path, root);
  return schema === null ? [] : Object.keys(schema);
}

interface Def {
  type: string;
  shape?: Record<string, unknown>;
  innerType?: { _zod: { def: Def } };
  valueType?: { _zod: { def: Def } };
  element?: { _zod: { def: Def } };
  options?: { _zod: { def: Def } }[];
}

const defOf = (schema: unknown): Def => (schema as { _zod: { def: Def } })._zod.def;

/** Follows `path` through objects, records, arrays, optionals and unions to the object schema there (its shape). */
function objectAt(schema: unknown, path: readonly PropertyKey[], value: unknown): Record<string, unknown> | null {
  let def = defOf(schema);
  for (;;) {
    if ((def.type === 'optional' || def.type === 'readonly' || def.type === 'nullable' || def.type === 'default') && def.innerType !== undefined) def = defOf(def.innerType);
    else if (def.type === 'union' && def.options !== undefined) {
      // The object branch whose `kind` matches the value's (or the only object branch).
      const objects = def.options.map(defOf).flatMap((d) => (d.type === 'union' && d.options !== undefined ? d.options.map(defOf) : [d])).filter((d) => d.type === 'object');
      const kind = typeof value === 'object' && value !== null ? (value as { kind?: unknown }).kind : undefined;
      const chosen = objects.find((d) => (d.shape?.kind as { _zod?: { def?: { values?: unknown[] } } } | undefined)?._zod?.def?.values?.includes(kind)) ?? (objects.length === 1 ? objects[0] : undefined);
      if (chosen === undefined) return null;
      def = chosen;
    } else break;
  }
  if (path.length === 0) return def.type === 'object' ? (def.shape ?? null) : null;
  const [head, ...rest] = path;
  const inner = typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[head as PropertyKey] : undefined;
  if (def.type === 'object') {
    const next = def.shape?.[String(head)];
    return next === undefined ? null : objectAt(next, rest, inner);
  }
  if (def.type === 'record' && def.valueType !== undefined) return objectAt(def.valueType, rest, inner);
  if (def.type === 'array' && def.element !== undefined) return objectAt(def.element, rest, inner);
  return null;
}
