// A MessagePack writer whose extension types belong to the instance that registers them, not to
// the process (msgpackr's `addExtension` is process-wide: loading one layer changed how another
// encoded Maps and Errors). Every value a node sends goes through here, so the common shapes
// (small arrays, short ASCII strings, small integers, pids) take the shortest paths.
//
// Output goes into a slab that is handed out in pieces: `encode` returns a view of the bytes it
// wrote and moves on, so a message is never copied after it is written; a slab is freed when the
// last message cut from it is.

import { ExtensionError, WriteError } from './errors.ts';

/** What an extension writes its payload with: whole MessagePack values, or raw bytes. */
export interface ExtensionOutput {
  value(v: unknown): void;
  bytes(b: Uint8Array): void;
}

/** How values of one class cross the wire as a MessagePack extension of type `type`. */
export interface WriteExtension<T = never> {
  readonly type: number;
  // Constructors of any signature: the class is only used to recognise instances.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly class: abstract new (...args: any[]) => T;
  write(value: T, out: ExtensionOutput): void;
}

const SLAB = 64 * 1024;
/** Nesting deeper than this is refused (a cycle, or a structure nobody means to send). */
export const MAX_DEPTH = 512;

type Plan = WriteExtension<unknown> | 'object' | 'refuse';

/** Encodes values as MessagePack with the extensions registered on this instance. */
export class Writer implements ExtensionOutput {
  #buf: Buffer = Buffer.allocUnsafeSlow(SLAB);
  #view = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength);
  #start = 0;
  #pos = 0;
  #depth = 0;
  /** Constructor → how its instances are written (extension, plain object, or refused), cached. */
  readonly #plans = new Map<unknown, Plan>();
  readonly #extensions: WriteExtension<unknown>[] = [];
  /** The extension type standing for `undefined`, and the extension of bigints (primitives have no class to look up). */
  #undefinedType: number | null = null;
  #bigintExt: WriteExtension<unknown> | null = null;

  /** Registers an extension; its class and subclasses are written with it. */
  register<T>(extension: WriteExtension<T>): void {
    if (!Number.isInteger(extension.type) || extension.type < 0 || extension.type > 127) throw new ExtensionError(`extension type ${String(extension.type)} is outside 0–127`);
    if (this.#extensions.some((e) => e.class === extension.class)) throw new ExtensionError(`${extension.class.name} has an extension already`);
    this.#extensions.push(extension);
    this.#plans.clear();
  }

  /** Sets how the two primitives MessagePack cannot express travel: `undefined` (a fixext 1 of `undefinedType`) and bigints. */
  registerPrimitives(undefinedType: number, bigint: WriteExtension<bigint>): void {
    this.#undefinedType = undefinedType;
    this.#bigintExt = bigint;
  }

  /** The registered extension types. */
  get types(): number[] {
    return this.#extensions.map((e) => e.type);
  }

  /** Encodes one value; the result is a view of bytes nobody else will write to. */
  encode(value: unknown): Buffer {
    this.#begin();
    this.value(value);
    return this.#finish();
  }

  /** Encodes several values one after the other (a frame: a header, then a message). */
  encodeAll(values: readonly unknown[]): Buffer {
    this.#begin();
    for (const v of values) this.value(v);
    return this.#finish();
  }

  /** Writes a header value followed by bytes already encoded (no second encode of the payload). */
  encodeWith(header: unknown, encoded: Uint8Array): Buffer {
    this.#begin();
    this.value(header);
    this.bytes(encoded);
    return this.#finish();
  }

  /**
   * A frame spliced from a header encoded before with one integer left out (`head`, then `n`,
   * then `tail`) and a value encoded before: only the integer is encoded per call.
   */
  encodeSpliced(head: Uint8Array, n: number, tail: Uint8Array, encoded: Uint8Array): Buffer {
    this.#begin();
    this.bytes(head);
    this.#number(n);
    this.bytes(tail);
    this.bytes(encoded);
    return this.#finish();
  }

  #begin(): void {
    this.#start = this.#pos;
    this.#depth = 0;
  }

  #finish(): Buffer {
    const out = this.#buf.subarray(this.#start, this.#pos);
    if (this.#buf.length - this.#pos < 1024) this.#newSlab(0);
    this.#start = this.#pos;
    return out;
  }

  /** Makes room for `n` more bytes, moving what this encode wrote so far to a new slab if needed. */
  #room(n: number): void {
    if (this.#pos + n > this.#buf.length) this.#newSlab(n);
  }

  #newSlab(need: number): void {
    const written = this.#pos - this.#start;
    const size = Math.max(SLAB, (written + need) * 2);
    const next = Buffer.allocUnsafeSlow(size);
    if (written > 0) this.#buf.copy(next, 0, this.#start, this.#pos);
    this.#buf = next;
    this.#view = new DataView(next.buffer, next.byteOffset, next.byteLength);
    this.#start = 0;
    this.#pos = written;
  }

  // ==== ExtensionOutput ====

  /** Appends raw bytes. */
  bytes(b: Uint8Array): void {
    this.#room(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
  }

  /** Appends one MessagePack value. */
  value(v: unknown): void {
    switch (typeof v) {
      case 'string':
        this.#string(v);
        return;
      case 'number':
        this.#number(v);
        return;
      case 'boolean':
        this.#room(1);
        this.#buf[this.#pos++] = v ? 0xc3 : 0xc2;
        return;
      case 'object':
        if (v === null) {
          this.#room(1);
          this.#buf[this.#pos++] = 0xc0;
          return;
        }
        this.#object(v);
        return;
      case 'undefined':
        this.#undefined();
        return;
      case 'bigint':
        this.#extensionFor(v);
        return;
      case 'function':
        throw new WriteError(`cannot send a function (${(v as { name?: string }).name ?? 'anonymous'}): functions never cross nodes`);
      case 'symbol':
        throw new WriteError(`cannot send a symbol (${v.toString()}): symbols never cross nodes`);
    }
  }

  #undefined(): void {
    // undefined is not null: it travels as an extension of its own (one zero byte of payload).
    const ext = this.#undefinedType;
    if (ext === null) throw new WriteError('undefined has no extension registered');
    this.#room(3);
    this.#buf[this.#pos++] = 0xd4;
    this.#buf[this.#pos++] = ext;
    this.#buf[this.#pos++] = 0;
  }

  #extensionFor(v: bigint): void {
    const ext = this.#bigintExt;
    if (ext === null) throw new WriteError('bigint has no extension registered');
    this.#extension(ext, v);
  }

  #number(n: number): void {
    if (Number.isInteger(n) && !Object.is(n, -0)) {
      if (n >= 0) {
        if (n < 0x80) {
          this.#room(1);
          this.#buf[this.#pos++] = n;
          return;
        }
        if (n < 0x100) {
          this.#room(2);
          this.#buf[this.#pos++] = 0xcc;
          this.#buf[this.#pos++] = n;
          return;
        }
        if (n < 0x10000) {
          this.#room(3);
          this.#buf[this.#pos++] = 0xcd;
          this.#view.setUint16(this.#pos, n);
          this.#pos += 2;
          return;
        }
        if (n < 0x100000000) {
          this.#room(5);
          this.#buf[this.#pos++] = 0xce;
          this.#view.setUint32(this.#pos, n);
          this.#pos += 4;
          return;
        }
        if (n <= Number.MAX_SAFE_INTEGER) {
          this.#room(9);
          // Two 32-bit halves: no BigInt per value (wall-clock incarnations in every pid are this size).
          this.#buf[this.#pos++] = 0xcf;
          this.#view.setUint32(this.#pos, Math.floor(n / 0x100000000));
          this.#view.setUint32(this.#pos + 4, n >>> 0);
          this.#pos += 8;
          return;
        }
      } else {
        if (n >= -0x20) {
          this.#room(1);
          this.#buf[this.#pos++] = n & 0xff;
          return;
        }
        if (n >= -0x80) {
          this.#room(2);
          this.#buf[this.#pos++] = 0xd0;
          this.#view.setInt8(this.#pos++, n);
          return;
        }
        if (n >= -0x8000) {
          this.#room(3);
          this.#buf[this.#pos++] = 0xd1;
          this.#view.setInt16(this.#pos, n);
          this.#pos += 2;
          return;
        }
        if (n >= -0x80000000) {
          this.#room(5);
          this.#buf[this.#pos++] = 0xd2;
          this.#view.setInt32(this.#pos, n);
          this.#pos += 4;
          return;
        }
        if (n >= Number.MIN_SAFE_INTEGER) {
          this.#room(9);
          this.#buf[this.#pos++] = 0xd3;
          this.#view.setBigInt64(this.#pos, BigInt(n));
          this.#pos += 8;
          return;
        }
      }
    }
    // Fractions, -0, NaN, ±Infinity and integers beyond 2^53 as doubles: exactly the number sent.
    this.#room(9);
    this.#buf[this.#pos++] = 0xcb;
    this.#view.setFloat64(this.#pos, n);
    this.#pos += 8;
  }

  #string(s: string): void {
    const length = s.length;
    // Short ASCII strings (names, tags, keys): one pass, no length computation.
    if (length < 32) {
      this.#room(1 + length);
      const buf = this.#buf;
      let p = this.#pos + 1;
      let i = 0;
      for (; i < length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[p++] = c;
      }
      if (i === length) {
        buf[this.#pos] = 0xa0 | length;
        this.#pos = p;
        return;
      }
    }
    const bytes = Buffer.byteLength(s, 'utf8');
    if (bytes < 32) {
      this.#room(1 + bytes);
      this.#buf[this.#pos++] = 0xa0 | bytes;
    } else if (bytes < 0x100) {
      this.#room(2 + bytes);
      this.#buf[this.#pos++] = 0xd9;
      this.#buf[this.#pos++] = bytes;
    } else if (bytes < 0x10000) {
      this.#room(3 + bytes);
      this.#buf[this.#pos++] = 0xda;
      this.#view.setUint16(this.#pos, bytes);
      this.#pos += 2;
    } else {
      this.#room(5 + bytes);
      this.#buf[this.#pos++] = 0xdb;
      this.#view.setUint32(this.#pos, bytes);
      this.#pos += 4;
    }
    this.#pos += this.#buf.write(s, this.#pos, bytes, 'utf8');
  }

  #object(v: object): void {
    if (++this.#depth > MAX_DEPTH) throw new WriteError(`the message nests deeper than ${String(MAX_DEPTH)} levels (a cycle?)`);
    const ctor = v.constructor as unknown; // undefined for objects without a prototype
    if (ctor === Array) this.#array(v as unknown[]);
    else if (ctor === Object || ctor === undefined) this.#map(v as Record<string, unknown>);
    else if (ctor === Buffer) this.#bin(v as Buffer);
    else {
      const plan = this.#plan(v, ctor);
      if (plan === 'object') this.#map(v as Record<string, unknown>);
      else if (plan === 'refuse') throw new WriteError(`cannot send a ${(ctor as { name?: string } | undefined)?.name ?? 'value'}: it cannot cross nodes`);
      else this.#extension(plan, v);
    }
    this.#depth--;
  }

  /** How instances of `ctor` are written: its extension (or a superclass's), or as a plain object. */
  #plan(v: object, ctor: unknown): Plan {
    let plan = this.#plans.get(ctor);
    if (plan !== undefined) return plan;
    plan = this.#extensions.find((e) => v instanceof e.class) ?? (REFUSED.some((c) => v instanceof c) ? 'refuse' : 'object');
    this.#plans.set(ctor, plan);
    return plan;
  }

  #array(a: unknown[]): void {
    const n = a.length;
    this.#room(5);
    if (n < 16) this.#buf[this.#pos++] = 0x90 | n;
    else if (n < 0x10000) {
      this.#buf[this.#pos++] = 0xdc;
      this.#view.setUint16(this.#pos, n);
      this.#pos += 2;
    } else {
      this.#buf[this.#pos++] = 0xdd;
      this.#view.setUint32(this.#pos, n);
      this.#pos += 4;
    }
    for (let i = 0; i < n; i++) this.value(a[i]);
  }

  #map(o: Record<string, unknown>): void {
    const keys = Object.keys(o);
    const n = keys.length;
    this.#room(5);
    if (n < 16) this.#buf[this.#pos++] = 0x80 | n;
    else if (n < 0x10000) {
      this.#buf[this.#pos++] = 0xde;
      this.#view.setUint16(this.#pos, n);
      this.#pos += 2;
    } else {
      this.#buf[this.#pos++] = 0xdf;
      this.#view.setUint32(this.#pos, n);
      this.#pos += 4;
    }
    for (let i = 0; i < n; i++) {
      const k = keys[i] as string;
      this.#string(k);
      this.value(o[k]);
    }
  }

  #bin(b: Uint8Array): void {
    const n = b.length;
    this.#room(5 + n);
    if (n < 0x100) {
      this.#buf[this.#pos++] = 0xc4;
      this.#buf[this.#pos++] = n;
    } else if (n < 0x10000) {
      this.#buf[this.#pos++] = 0xc5;
      this.#view.setUint16(this.#pos, n);
      this.#pos += 2;
    } else {
      this.#buf[this.#pos++] = 0xc6;
      this.#view.setUint32(this.#pos, n);
      this.#pos += 4;
    }
    this.#buf.set(b, this.#pos);
    this.#pos += n;
  }

  /**
   * An extension: `ext 8` header reserved, payload written, then the header fixed to the payload's
   * length (moving the payload by one or three bytes in the rare case it outgrew `ext 8`).
   */
  #extension(ext: WriteExtension<unknown>, v: unknown): void {
    this.#room(3);
    // Relative to this encode's start: writing the payload may move everything to a new slab.
    const at = this.#pos - this.#start;
    this.#pos += 3;
    ext.write(v, this);
    let header = this.#start + at;
    const length = this.#pos - header - 3;
    if (length < 0x100) {
      this.#buf[header] = 0xc7;
      this.#buf[header + 1] = length;
      this.#buf[header + 2] = ext.type;
      return;
    }
    const wide = length < 0x10000 ? 1 : 3;
    this.#room(wide);
    header = this.#start + at;
    this.#buf.copyWithin(header + 3 + wide, header + 3, this.#pos);
    this.#pos += wide;
    if (wide === 1) {
      this.#buf[header] = 0xc8;
      this.#view.setUint16(header + 1, length);
      this.#buf[header + 3] = ext.type;
    } else {
      this.#buf[header] = 0xc9;
      this.#view.setUint32(header + 1, length);
      this.#buf[header + 5] = ext.type;
    }
  }
}

/** Objects that would arrive as something else entirely (an empty object): refused at the sender. */
const REFUSED: (abstract new (...args: never[]) => unknown)[] = [Promise, WeakMap, WeakSet, WeakRef];
