// The options a strategy takes, described as data: the name, the type and whether required. One
// description checks a configuration object (unknown keys and bad values named, with a guess
// for a misspelt key), converts environment variables (FDN_DISCOVERY_POLLING_INTERVAL_MS=2000)
// and lists the keys in errors.

import { closestWord } from '@fdn/core';
import { ClusterError, ClusterErrorCode } from '../errors.ts';

/** A field's type: a primitive, a list of strings, or one of some words. */
export type FieldType = 'string' | 'number' | 'port' | 'boolean' | 'string[]' | 'secret' | readonly string[];

export interface Field {
  type: FieldType;
  required?: boolean;
  /** One line for the docs and errors. */
  doc: string;
}

export type Fields = Readonly<Record<string, Field>>;

/** Checks `config` against `fields`; every mistake at once, each naming its key; `where` says whose config it is. */
export function checkFields(config: Record<string, unknown>, fields: Fields, where: string): void {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    const field = fields[key];
    if (field === undefined) {
      problems.push(unknownKey(key, Object.keys(fields)));
      continue;
    }
    const bad = badValue(value, field.type);
    if (bad !== null) problems.push(`${key}: ${bad}`);
  }
  for (const [key, field] of Object.entries(fields)) {
    if (field.required === true && config[key] === undefined) problems.push(`${key}: required (${field.doc})`);
  }
  if (problems.length > 0) throw new ClusterError(ClusterErrorCode.BAD_CONFIG, `invalid ${where}:\n  ${problems.join('\n  ')}`);
}

/** "`key`: unknown option (did you mean …?); allowed here: …". */
export function unknownKey(key: string, allowed: readonly string[]): string {
  const guess = closestWord(key, allowed);
  return `${key}: unknown option${guess === null ? '' : ` (did you mean '${guess}'?)`}; allowed here: ${allowed.join(', ')}`;
}

function badValue(value: unknown, type: FieldType): string | null {
  const shown = (JSON.stringify(value) as string | undefined) ?? typeof value;
  if (typeof type !== 'string') return typeof value === 'string' && type.includes(value) ? null : `must be one of ${type.map((t) => `'${t}'`).join(', ')}; got ${shown}`;
  switch (type) {
    case 'string':
      return typeof value === 'string' && value !== '' ? null : `expected a non-empty string, got ${shown}`;
    case 'secret':
      return (typeof value === 'string' || value instanceof Uint8Array) && value.length >= 8 ? null : 'expected a secret of at least 8 characters or bytes';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? null : `expected a number ≥ 0, got ${shown}`;
    case 'port':
      return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65_535 ? null : `expected a port (1–65535), got ${shown}`;
    case 'boolean':
      return typeof value === 'boolean' ? null : `expected true or false, got ${shown}`;
    case 'string[]':
      return Array.isArray(value) && value.every((v) => typeof v === 'string' || (typeof v === 'object' && v !== null)) ? null : `expected a list of strings, got ${shown}`;
  }
}

/** An environment variable's text as a value of `type` (a malformed one is FDN_ERR_CLUSTER_CONFIG naming the variable). */
export function fromEnvironment(variable: string, text: string, type: FieldType): unknown {
  const value = text.trim();
  if (type === 'number' || type === 'port') {
    const n = Number(value);
    if (value === '' || !Number.isFinite(n)) throw new ClusterError(ClusterErrorCode.BAD_CONFIG, `${variable}=${text}: expected a number`);
    return n;
  }
  if (type === 'boolean') {
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    throw new ClusterError(ClusterErrorCode.BAD_CONFIG, `${variable}=${text}: expected true or false`);
  }
  if (type === 'string[]') return value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return value;
}
