// Turns the fields of a log entry into plain data a person (or a JSON log pipeline) can read:
// errors anywhere in a value become { name, message, code, reason, cause } (JSON.stringify
// would print `{}`), values that name themselves (pids, refs) print as their string, and the
// internals of other class instances (a runtime, a process, a socket) are never walked into:
// they show as `[ClassName]`. Bounded in depth, length and size.

const MAX_DEPTH = 6;
const MAX_ITEMS = 50;
const MAX_STRING = 2_000;

/** A JSON-ready rendering of `value` for a log entry. */
export function toLogValue(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  switch (typeof value) {
    case 'string':
      return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
    case 'number':
    case 'boolean':
      return value;
    case 'bigint':
      return `${value.toString()}n`;
    case 'undefined':
      return undefined;
    case 'symbol':
      return value.toString();
    case 'function':
      return `[function ${value.name || 'anonymous'}]`;
  }
  if (value === null) return null;
  const obj = value as object;
  if (seen.has(obj)) return '[Circular]';
  if (depth >= MAX_DEPTH) return Array.isArray(obj) ? `[Array(${String(obj.length)})]` : '[…]';
  seen.add(obj);
  try {
    if (obj instanceof Error) return errorValue(obj, depth, seen);
    if (Array.isArray(obj)) {
      const items = obj.slice(0, MAX_ITEMS).map((v: unknown) => toLogValue(v, depth + 1, seen));
      if (obj.length > MAX_ITEMS) items.push(`… ${String(obj.length - MAX_ITEMS)} more`);
      return items;
    }
    if (obj instanceof Map) return { Map: toLogValue([...obj.entries()], depth, seen) };
    if (obj instanceof Set) return { Set: toLogValue([...obj.values()], depth, seen) };
    if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? 'Invalid Date' : obj.toISOString();
    if (ArrayBuffer.isView(obj)) return `[${obj.constructor.name}(${String(obj.byteLength)} bytes)]`;
    const proto = Object.getPrototypeOf(obj) as object | null;
    if (proto !== Object.prototype && proto !== null) {
      // Pids, refs and the like name themselves; anything else is opaque (no internals in logs).
      if (Object.prototype.hasOwnProperty.call(proto, 'toString')) return (obj as { toString(): string }).toString();
      if (!isPlainData(obj)) return `[${obj.constructor.name}]`;
    }
    const out: Record<string, unknown> = {};
    let n = 0;
    for (const [k, v] of Object.entries(obj)) {
      if (n++ >= MAX_ITEMS) {
        out['…'] = `${String(Object.keys(obj).length - MAX_ITEMS)} more keys`;
        break;
      }
      out[k] = toLogValue(v, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(obj);
  }
}

function errorValue(e: Error, depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = { name: e.name, message: e.message };
  const extra = e as Error & { code?: unknown; reason?: unknown };
  if (typeof extra.code === 'string') out.code = extra.code;
  if (extra.reason !== undefined) out.reason = toLogValue(extra.reason, depth + 1, seen);
  if (e.cause !== undefined) out.cause = toLogValue(e.cause, depth + 1, seen);
  return out;
}

/** A class instance whose own fields are all plain data (a user's message class): shown field by field. */
function isPlainData(obj: object): boolean {
  for (const v of Object.values(obj)) {
    if (typeof v === 'object' && v !== null) {
      const proto = Object.getPrototypeOf(v) as object | null;
      if (proto !== Object.prototype && proto !== Array.prototype && proto !== null && !(v instanceof Error) && !Object.prototype.hasOwnProperty.call(proto, 'toString')) return false;
    }
    if (typeof v === 'function') return false;
  }
  return true;
}

/** The stacks of the errors in `value` (top level and causes), for the lines after a log entry. */
export function stacksOf(value: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > 3 || typeof value !== 'object' || value === null) return out;
  if (value instanceof Error) {
    if (value.stack !== undefined) out.push(value.stack);
    const reason = (value as { reason?: unknown }).reason;
    if (reason instanceof Error) stacksOf(reason, out, depth + 1);
    if (value.cause instanceof Error) {
      out.push('Caused by:');
      stacksOf(value.cause, out, depth + 1);
    }
  }
  return out;
}
