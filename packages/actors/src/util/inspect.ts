// Short, bounded renderings of arbitrary terms for crash reports.

import { inspect } from 'node:util';

/** A one-line rendering of `value`, at most `max` characters. */
export function summarize(value: unknown, max = 1_000): string {
  let text: string;
  try {
    text = inspect(value, { depth: 3, breakLength: Number.POSITIVE_INFINITY, maxArrayLength: 20, maxStringLength: 200 });
  } catch {
    text = '[uninspectable]';
  }
  return text.length > max ? text.slice(0, max) + '…' : text;
}

/** `JSON.stringify`, typed as it behaves: undefined for undefined, functions and symbols. */
export function toJson(value: unknown): string | undefined {
  return JSON.stringify(value);
}
