// How listings print: aligned columns for people, one JSON document with `--json` for scripts.

import type { CommandIo } from './io.ts';

/** A column of a table: its heading and how to show a row's cell. */
export interface Column<R> {
  title: string;
  cell: (row: R) => string | number | null | undefined;
  /** Numbers read better aligned right. */
  right?: boolean;
}

/** `rows` as aligned columns (two spaces apart), heading first. */
export function table<R>(rows: readonly R[], columns: readonly Column<R>[]): string {
  const cells = rows.map((r) => columns.map((c) => String(c.cell(r) ?? '-')));
  const widths = columns.map((c, i) => Math.max(c.title.length, ...cells.map((row) => (row[i] as string).length)));
  const line = (values: readonly string[]): string =>
    values
      .map((v, i) => ((columns[i] as Column<R>).right === true ? v.padStart(widths[i] as number) : v.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.title)), ...cells.map(line)].join('\n');
}

/** Prints `value` as JSON (with `--json`) or as `render` makes it. Pids print as `<node.id.incarnation>`. */
export function print(io: CommandIo, json: boolean, value: unknown, render: () => string): void {
  io.out(json ? JSON.stringify(value, null, 2) : render());
}

/** Bytes for people: 1.5 MB. */
export function bytes(n: number): string {
  if (n < 1024) return `${String(n)} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u] as string}`;
}
