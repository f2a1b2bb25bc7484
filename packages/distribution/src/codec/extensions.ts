// The extension types of the distribution's wire format: JavaScript values MessagePack has no type
// for (undefined, bigint, Date, Map, Set, errors, typed arrays…) and the runtime's own values
// (pids, refs, and the call/cast/reply/DOWN/EXIT messages), so each arrives as the class it left.
//
// The numbers are part of the wire protocol: never renumber one. They avoid every type msgpackr
// gives a meaning to (a test enumerates msgpackr's), so a dump read with another tool is not
// misread, and nothing here depends on what else is loaded in the process.

import { Pid, Ref } from '@fdn/actors';
import { Wire } from '@fdn/actors/internal';
import type { ExtensionInput, ReadExtension } from './msgpack/reader.ts';
import { ReadError } from './msgpack/errors.ts';
import type { ExtensionOutput, WriteExtension } from './msgpack/writer.ts';

/** Extension type numbers of the distribution codec. */
export const ExtType = {
  Undefined: 0x10,
  BigInt: 0x11,
  Date: 0x12,
  Map: 0x13,
  Set: 0x14,
  Error: 0x15,
  TypedArray: 0x16,
  ArrayBuffer: 0x17,
  RegExp: 0x18,
  Pid: 0x19,
  Ref: 0x1a,
  From: 0x1b,
  CallRequest: 0x1c,
  CastRequest: 0x1d,
  CallReply: 0x1e,
  SystemRequest: 0x1f,
  Down: 0x20,
  Exit: 0x21,
  TracedCallRequest: 0x22,
  TracedCastRequest: 0x23,
  TracedMessage: 0x24,
} as const;

/** How the codec turns a decoded (node, id, incarnation) into a pid (the receiving runtime's own object for a live local process). */
export type PidFactory = (node: string, id: number, incarnation: number) => Pid;

/** An extension both ways. */
export type Extension<T> = WriteExtension<T> & ReadExtension<T>;

// ==== Field checks for untrusted payloads ====

function str(x: unknown, what: string): string {
  if (typeof x !== 'string') throw new ReadError(`${what} is not a string`);
  return x;
}

function uint(x: unknown, what: string): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) throw new ReadError(`${what} is not a non-negative integer`);
  return x;
}

function pid(x: unknown, what: string): Pid {
  if (!(x instanceof Pid)) throw new ReadError(`${what} is not a pid`);
  return x;
}

function ref(x: unknown, what: string): Ref {
  if (!(x instanceof Ref)) throw new ReadError(`${what} is not a reference`);
  return x;
}

// ==== JavaScript values ====

const bigint: Extension<bigint> = {
  type: ExtType.BigInt,
  class: BigInt as unknown as abstract new () => bigint,
  // Sign byte, then the magnitude big-endian: any size, exact.
  write(n, out) {
    const negative = n < 0n;
    let hex = (negative ? -n : n).toString(16);
    if (hex.length % 2 === 1) hex = '0' + hex;
    out.bytes(Buffer.from([negative ? 1 : 0]));
    out.bytes(Buffer.from(hex, 'hex'));
  },
  read(input) {
    const b = input.bytes();
    if (b.length < 2 || (b[0] !== 0 && b[0] !== 1)) throw new ReadError('a malformed bigint');
    const magnitude = BigInt('0x' + b.subarray(1).toString('hex'));
    return b[0] === 1 ? -magnitude : magnitude;
  },
};

const date: Extension<Date> = {
  type: ExtType.Date,
  class: Date,
  // The time value as a double: every Date, the invalid one included, comes back equal.
  write(d, out) {
    const b = Buffer.allocUnsafe(8);
    b.writeDoubleBE(d.getTime());
    out.bytes(b);
  },
  read(input) {
    const b = input.bytes();
    if (b.length !== 8) throw new ReadError('a malformed date');
    return new Date(b.readDoubleBE(0));
  },
};

const map: Extension<Map<unknown, unknown>> = {
  type: ExtType.Map,
  class: Map,
  // Keys of any type (numbers, pids, objects), in insertion order.
  write(m, out) {
    const flat = new Array<unknown>(m.size * 2);
    let i = 0;
    for (const [k, v] of m) {
      flat[i++] = k;
      flat[i++] = v;
    }
    out.value(flat);
  },
  read(input) {
    const flat = input.value();
    if (!Array.isArray(flat) || flat.length % 2 !== 0) throw new ReadError('a malformed Map');
    const m = new Map<unknown, unknown>();
    for (let i = 0; i < flat.length; i += 2) m.set(flat[i], flat[i + 1]);
    return m;
  },
};

const set: Extension<Set<unknown>> = {
  type: ExtType.Set,
  class: Set,
  write(s, out) {
    out.value([...s]);
  },
  read(input) {
    const items = input.value();
    if (!Array.isArray(items)) throw new ReadError('a malformed Set');
    return new Set(items);
  },
};

/** Written on their own (`cause` is own but not enumerable; `name` is usually the prototype's, and travels in `fields` when it is an own field). */
const ERROR_CORE = new Set(['message', 'stack', 'cause']);

const error: Extension<Error> = {
  type: ExtType.Error,
  class: Error,
  // Name, message, stack, cause, and the error's own fields (`code`, `reason`…). It arrives as an
  // `Error` carrying all of them; its class does not travel (code is what callers test).
  write(e, out) {
    const fields: Record<string, unknown> = {};
    for (const key of Object.keys(e)) if (!ERROR_CORE.has(key)) fields[key] = (e as unknown as Record<string, unknown>)[key];
    const hasCause = Object.prototype.hasOwnProperty.call(e, 'cause');
    out.value(e.name);
    out.value(e.message);
    out.value(e.stack ?? null);
    out.value(hasCause);
    if (hasCause) out.value(e.cause);
    out.value(fields);
  },
  read(input) {
    const name = str(input.value(), 'an error name');
    const message = str(input.value(), 'an error message');
    const stack = input.value();
    const hasCause = input.value() === true;
    const cause = hasCause ? input.value() : undefined;
    const fields = input.value();
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) throw new ReadError('malformed error fields');
    const e = hasCause ? new Error(message, { cause }) : new Error(message);
    if (name !== 'Error' && !Object.prototype.hasOwnProperty.call(fields, 'name')) Object.defineProperty(e, 'name', { value: name, enumerable: false, writable: true, configurable: true });
    if (typeof stack === 'string') e.stack = stack;
    else delete e.stack;
    for (const [key, value] of Object.entries(fields)) {
      if (key === '__proto__') continue;
      (e as unknown as Record<string, unknown>)[key] = value;
    }
    return e;
  },
};

/** Typed arrays by kind byte (part of the wire format). Bytes travel in the host's order (little-endian on every platform Node runs on here). */
const TYPED_ARRAYS = [
  null,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
] as const;

type View = Exclude<(typeof TYPED_ARRAYS)[number], null>;

const typedArray: Extension<ArrayBufferView> = {
  type: ExtType.TypedArray,
  // Buffers never get here (they are MessagePack bin); every other view does.
  class: Object.getPrototypeOf(Uint8Array) as abstract new () => ArrayBufferView,
  write(v, out) {
    const kind = TYPED_ARRAYS.indexOf(v.constructor as View);
    if (kind <= 0) throw new ReadError(`cannot send a ${v.constructor.name}`);
    out.bytes(Buffer.from([kind]));
    out.bytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  },
  read(input) {
    const b = input.bytes();
    const Kind = TYPED_ARRAYS[b[0] ?? 0];
    if (Kind == null) throw new ReadError(`unknown typed array kind ${String(b[0])}`);
    // Copied into a buffer of its own: aligned for its element size, owned by the receiver.
    const bytes = new Uint8Array(b.length - 1);
    bytes.set(b.subarray(1));
    if (Kind === DataView) return new DataView(bytes.buffer);
    const size = (Kind as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    if (bytes.length % size !== 0) throw new ReadError(`a ${Kind.name} of ${String(bytes.length)} bytes`);
    return new (Kind as unknown as new (buffer: ArrayBuffer) => ArrayBufferView)(bytes.buffer);
  },
};

const dataView: WriteExtension<DataView> = { ...typedArray, class: DataView };

const arrayBuffer: Extension<ArrayBuffer> = {
  type: ExtType.ArrayBuffer,
  class: ArrayBuffer,
  write(b, out) {
    out.bytes(new Uint8Array(b));
  },
  read(input) {
    const b = input.bytes();
    const copy = new Uint8Array(b.length);
    copy.set(b);
    return copy.buffer;
  },
};

const regExp: Extension<RegExp> = {
  type: ExtType.RegExp,
  class: RegExp,
  write(r, out) {
    out.value(r.source);
    out.value(r.flags);
  },
  read(input) {
    const source = str(input.value(), 'a regexp source');
    const flags = str(input.value(), 'regexp flags');
    try {
      return new RegExp(source, flags);
    } catch (err) {
      throw new ReadError(`a malformed regexp: ${(err as Error).message}`);
    }
  },
};

// ==== The runtime's values ====

function pidExtension(pidFor: PidFactory): Extension<Pid> {
  return {
    type: ExtType.Pid,
    class: Pid,
    write(p, out) {
      out.value(p.node);
      out.value(p.id);
      out.value(p.incarnation);
    },
    read(input) {
      return pidFor(str(input.value(), 'a pid node'), uint(input.value(), 'a pid id'), uint(input.value(), 'a pid incarnation'));
    },
  };
}

const refExtension: Extension<Ref> = {
  type: ExtType.Ref,
  class: Ref,
  write(r, out) {
    out.value(r.node);
    out.value(r.id);
    out.value(r.incarnation);
  },
  read(input) {
    return new Ref(str(input.value(), 'a ref node'), uint(input.value(), 'a ref id'), uint(input.value(), 'a ref incarnation'));
  },
};

/** What a DOWN names: a pid, or `{ name, node }` for a monitor by name. */
function downTarget(x: unknown): Pid | { name: string; node: string } {
  if (x instanceof Pid) return x;
  const t = x as { name?: unknown; node?: unknown } | null;
  if (typeof t === 'object' && t !== null && typeof t.name === 'string' && typeof t.node === 'string') return { name: t.name, node: t.node };
  throw new ReadError('a DOWN target is neither a pid nor { name, node }');
}

/** An extension whose payload is a fixed list of values. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- constructors of any signature
function fields<T>(type: number, cls: abstract new (...args: any[]) => T, write: (v: T) => unknown[], read: (values: unknown[]) => T, count: number): Extension<T> {
  return {
    type,
    class: cls,
    write(v: T, out: ExtensionOutput) {
      for (const f of write(v)) out.value(f);
    },
    read(input: ExtensionInput) {
      const values = new Array<unknown>(count);
      for (let i = 0; i < count; i++) values[i] = input.value();
      return read(values);
    },
  };
}

/** A trace context from a peer: a few short string entries (`traceparent`, `tracestate`, baggage), nothing else. */
function traceCarrier(x: unknown): Record<string, string> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new ReadError('a trace context is not a map');
  const entries = Object.entries(x as Record<string, unknown>);
  if (entries.length > 8) throw new ReadError('a trace context with more than 8 entries');
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (typeof v !== 'string' || k.length > 64 || v.length > 1024) throw new ReadError('a trace context entry is not a short string');
    out[k] = v;
  }
  return out;
}

const RUNTIME_MESSAGES: Extension<unknown>[] = [
  // The traced requests are subclasses: they come before their parents (the first class that matches wins).
  fields(ExtType.TracedCallRequest, Wire.TracedCallRequest, (c) => [c.from, c.request, c.trace], ([from, request, trace]) => {
    if (!(from instanceof Wire.FromImpl)) throw new ReadError('a call without its caller');
    return new Wire.TracedCallRequest(from, request, traceCarrier(trace));
  }, 3),
  fields(ExtType.TracedCastRequest, Wire.TracedCastRequest, (c) => [c.request, c.trace], ([request, trace]) => new Wire.TracedCastRequest(request, traceCarrier(trace)), 2),
  fields(ExtType.TracedMessage, Wire.TracedMessage, (m) => [m.message, m.trace, m.to], ([message, trace, to]) => new Wire.TracedMessage(message, traceCarrier(trace), str(to, 'a traced message\'s receiver').slice(0, 300)), 3),
  fields(ExtType.From, Wire.FromImpl, (f) => [f.pid, f.ref], ([p, r]) => new Wire.FromImpl(pid(p, 'a caller'), ref(r, 'a call tag')), 2),
  fields(ExtType.CallRequest, Wire.CallRequest, (c) => [c.from, c.request], ([from, request]) => {
    if (!(from instanceof Wire.FromImpl)) throw new ReadError('a call without its caller');
    return new Wire.CallRequest(from, request);
  }, 2),
  fields(ExtType.CastRequest, Wire.CastRequest, (c) => [c.request], ([request]) => new Wire.CastRequest(request), 1),
  fields(ExtType.CallReply, Wire.CallReply, (c) => [c.ref, c.value], ([r, value]) => new Wire.CallReply(ref(r, 'a reply tag'), value), 2),
  fields(ExtType.SystemRequest, Wire.SystemRequest, (s) => [s.op, s.reason], ([op, reason]) => {
    if (op !== 'getState' && op !== 'stop') throw new ReadError(`an unknown system request '${String(op)}'`);
    return new Wire.SystemRequest(op, reason);
  }, 2),
  fields(ExtType.Down, Wire.DownMessageImpl, (d) => [d.ref, d.target, d.pid, d.reason], ([r, t, p, reason]) => new Wire.DownMessageImpl(ref(r, 'a DOWN ref'), downTarget(t), pid(p, 'a DOWN pid'), reason), 4),
  fields(ExtType.Exit, Wire.ExitMessageImpl, (e) => [e.from, e.reason], ([from, reason]) => new Wire.ExitMessageImpl(pid(from, 'an EXIT sender'), reason), 2),
] as Extension<unknown>[];

/** Every extension of the distribution codec; `undefined` and `bigint` are wired separately (they have no class). */
export function distributionExtensions(pidFor: PidFactory): { classes: WriteExtension<unknown>[]; readers: ReadExtension[]; bigint: Extension<bigint>; undefinedType: number } {
  // Order matters for subclasses: the first extension whose class matches wins (runtime messages before anything generic).
  const classes = [pidExtension(pidFor), refExtension, ...RUNTIME_MESSAGES, map, set, date, error, typedArray, dataView, arrayBuffer, regExp] as WriteExtension<unknown>[];
  const readers = [pidExtension(pidFor), refExtension, ...RUNTIME_MESSAGES, map, set, date, error, typedArray, arrayBuffer, regExp, bigint] as ReadExtension[];
  readers.push({
    type: ExtType.Undefined,
    read: (input) => {
      input.bytes();
      return undefined;
    },
  });
  return { classes, readers, bigint, undefinedType: ExtType.Undefined };
}
