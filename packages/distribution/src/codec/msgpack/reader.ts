// A MessagePack reader for untrusted bytes: every length is checked against what is left before
// anything is allocated, nesting is bounded, an unknown extension is an error (never a guess),
// and a key named `__proto__` is an own property like any other. Extension readers belong to
// the instance, as the writer's do.

import { shortAscii } from './ascii.ts';
import { ExtensionError, ReadError } from './errors.ts';
import { MAX_DEPTH } from './writer.ts';

/** Entries of the map-key cache (a power of two). */
const KEY_CACHE = 1024;
/** Slots of the cache of short string values (a power of two). */
const VALUE_CACHE = 1024;

/** What an extension reads its payload with; reads never go past the payload's end. */
export interface ExtensionInput {
  value(): unknown;
  /** The rest of the payload, copied (the caller owns it). */
  bytes(): Buffer;
  /** Bytes of the payload not read yet. */
  readonly remaining: number;
}

/** How an extension's payload becomes a value again. */
export interface ReadExtension<T = unknown> {
  readonly type: number;
  read(input: ExtensionInput): T;
}

/** A position in a frame of several values (`next` until `done`). */
export interface Cursor {
  next(): unknown;
  readonly done: boolean;
  /** The bytes after the values read so far, as a view. */
  rest(): Buffer;
}

/** Decodes MessagePack with the extensions registered on this instance. */
export class Reader implements ExtensionInput {
  #buf: Buffer = Buffer.alloc(0);
  #pos = 0;
  #end = 0;
  #depth = 0;
  readonly #keys: (string | undefined)[] = new Array<string | undefined>(KEY_CACHE).fill(undefined);
  /** Short ASCII string values decoded before, by a hash of their bytes. */
  readonly #values: (string | undefined)[] = new Array<string | undefined>(VALUE_CACHE).fill(undefined);
  readonly #extensions: (ReadExtension | undefined)[] = new Array<ReadExtension | undefined>(128).fill(undefined);

  register(extension: ReadExtension): void {
    if (!Number.isInteger(extension.type) || extension.type < 0 || extension.type > 127) throw new ExtensionError(`extension type ${String(extension.type)} is outside 0–127`);
    if (this.#extensions[extension.type] !== undefined) throw new ExtensionError(`extension type ${String(extension.type)} is registered twice`);
    this.#extensions[extension.type] = extension;
  }

  /** Decodes exactly one value filling `bytes`. */
  decode(bytes: Uint8Array): unknown {
    this.#open(bytes);
    const value = this.value();
    if (this.#pos !== this.#end) throw new ReadError(`${String(this.#end - this.#pos)} bytes after the value`);
    return value;
  }

  /** Decodes the first value of `bytes`; `position` is then where what follows it starts. */
  decodeHead(bytes: Uint8Array): unknown {
    this.#open(bytes);
    return this.value();
  }

  /** Reads the values of a frame one after the other; valid until the next decode on this reader. */
  cursor(bytes: Uint8Array): Cursor {
    this.#open(bytes);
    const buf = this.#buf;
    const end = this.#end;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the cursor reads the reader's private position
    const reader = this;
    const check = (): void => {
      if (reader.#buf !== buf) throw new ReadError('the reader moved on to another frame');
    };
    return {
      next() {
        check();
        reader.#depth = 0;
        return reader.value();
      },
      get done() {
        return reader.#buf !== buf || reader.#pos >= end;
      },
      rest() {
        check();
        return buf.subarray(reader.#pos, end);
      },
    };
  }

  /** The position in the current frame (for cursors). */
  get position(): number {
    return this.#pos;
  }

  #open(bytes: Uint8Array): void {
    this.#buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#pos = 0;
    this.#end = this.#buf.length;
    this.#depth = 0;
  }

  get remaining(): number {
    return this.#end - this.#pos;
  }

  bytes(): Buffer {
    const out = Buffer.allocUnsafe(this.#end - this.#pos);
    this.#buf.copy(out, 0, this.#pos, this.#end);
    this.#pos = this.#end;
    return out;
  }

  #need(n: number): void {
    if (this.#pos + n > this.#end) throw new ReadError(`truncated: ${String(n)} bytes needed at byte ${String(this.#pos)}, ${String(this.#end - this.#pos)} left`);
  }

  /** An item count announced by the bytes: each item takes at least one byte, so more than are left is a lie. */
  #count(n: number): number {
    if (n > this.#end - this.#pos) throw new ReadError(`a length of ${String(n)} at byte ${String(this.#pos)} with ${String(this.#end - this.#pos)} bytes left`);
    return n;
  }

  value(): unknown {
    this.#need(1);
    const buf = this.#buf;
    const b = buf[this.#pos++] as number;
    if (b < 0x80) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b < 0x90) return this.#map(b & 0x0f);
    if (b < 0xa0) return this.#array(b & 0x0f);
    if (b < 0xc0) return this.#string(b & 0x1f);
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        this.#need(1);
        return this.#bin(buf[this.#pos++] as number);
      case 0xc5:
        this.#need(2);
        this.#pos += 2;
        return this.#bin(buf.readUInt16BE(this.#pos - 2));
      case 0xc6:
        this.#need(4);
        this.#pos += 4;
        return this.#bin(buf.readUInt32BE(this.#pos - 4));
      case 0xc7:
        this.#need(2);
        this.#pos += 2;
        return this.#ext(buf[this.#pos - 2] as number, buf[this.#pos - 1] as number);
      case 0xc8:
        this.#need(3);
        this.#pos += 3;
        return this.#ext(buf.readUInt16BE(this.#pos - 3), buf[this.#pos - 1] as number);
      case 0xc9:
        this.#need(5);
        this.#pos += 5;
        return this.#ext(buf.readUInt32BE(this.#pos - 5), buf[this.#pos - 1] as number);
      case 0xca:
        this.#need(4);
        this.#pos += 4;
        return buf.readFloatBE(this.#pos - 4);
      case 0xcb:
        this.#need(8);
        this.#pos += 8;
        return buf.readDoubleBE(this.#pos - 8);
      case 0xcc:
        this.#need(1);
        return buf[this.#pos++];
      case 0xcd:
        this.#need(2);
        this.#pos += 2;
        return buf.readUInt16BE(this.#pos - 2);
      case 0xce:
        this.#need(4);
        this.#pos += 4;
        return buf.readUInt32BE(this.#pos - 4);
      case 0xcf: {
        this.#need(8);
        this.#pos += 8;
        // Up to 2^53 from the two halves, without a BigInt (pids carry such integers); beyond, a
        // 64-bit integer from another encoder stays exact as a bigint.
        const high = buf.readUInt32BE(this.#pos - 8);
        if (high <= 0x1fffff) return high * 0x100000000 + buf.readUInt32BE(this.#pos - 4);
        return buf.readBigUInt64BE(this.#pos - 8);
      }
      case 0xd0:
        this.#need(1);
        return buf.readInt8(this.#pos++);
      case 0xd1:
        this.#need(2);
        this.#pos += 2;
        return buf.readInt16BE(this.#pos - 2);
      case 0xd2:
        this.#need(4);
        this.#pos += 4;
        return buf.readInt32BE(this.#pos - 4);
      case 0xd3: {
        this.#need(8);
        this.#pos += 8;
        const n = buf.readBigInt64BE(this.#pos - 8);
        return n <= BigInt(Number.MAX_SAFE_INTEGER) && n >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(n) : n;
      }
      case 0xd4:
        return this.#ext(1, this.#type());
      case 0xd5:
        return this.#ext(2, this.#type());
      case 0xd6:
        return this.#ext(4, this.#type());
      case 0xd7:
        return this.#ext(8, this.#type());
      case 0xd8:
        return this.#ext(16, this.#type());
      case 0xd9:
        this.#need(1);
        return this.#string(buf[this.#pos++] as number);
      case 0xda:
        this.#need(2);
        this.#pos += 2;
        return this.#string(buf.readUInt16BE(this.#pos - 2));
      case 0xdb:
        this.#need(4);
        this.#pos += 4;
        return this.#string(buf.readUInt32BE(this.#pos - 4));
      case 0xdc:
        this.#need(2);
        this.#pos += 2;
        return this.#array(buf.readUInt16BE(this.#pos - 2));
      case 0xdd:
        this.#need(4);
        this.#pos += 4;
        return this.#array(buf.readUInt32BE(this.#pos - 4));
      case 0xde:
        this.#need(2);
        this.#pos += 2;
        return this.#map(buf.readUInt16BE(this.#pos - 2));
      case 0xdf:
        this.#need(4);
        this.#pos += 4;
        return this.#map(buf.readUInt32BE(this.#pos - 4));
      default:
        throw new ReadError(`byte 0x${b.toString(16)} at ${String(this.#pos - 1)} is not a MessagePack type`);
    }
  }

  #type(): number {
    this.#need(1);
    return this.#buf[this.#pos++] as number;
  }

  #string(n: number): string {
    this.#need(n);
    const start = this.#pos;
    this.#pos += n;
    // Short strings repeat from message to message (tags, names): the one decoded last time
    // from the same bytes is returned again, so a stream of messages makes no garbage for them.
    if (n === 0) return '';
    if (n < 16) {
      const s = this.#interned(this.#values, start, n);
      if (s !== null) return s;
    }
    return this.#buf.toString('utf8', start, start + n);
  }

  /**
   * A map key. Keys repeat from message to message: a short ASCII key found in the cache is the
   * same string object as last time (already internalised for property access), which makes
   * building objects markedly cheaper than decoding each key afresh.
   */
  #key(): unknown {
    const b = this.#buf[this.#pos];
    if (b === undefined || b < 0xa0 || b >= 0xb0) return this.value();
    const n = b & 0x1f;
    const start = this.#pos + 1;
    if (start + n > this.#end || n >= 16 || n === 0) return this.value();
    const key = this.#interned(this.#keys, start, n);
    if (key === null) return this.value();
    this.#pos = start + n;
    return key;
  }

  /**
   * The short ASCII string of the `n` bytes at `start` (`n` < 16), the same object as the last
   * time these bytes were seen in `cache` (a slot per hash of the bytes); null if a byte is not
   * ASCII (only ASCII is cached: its bytes and characters compare one for one).
   */
  #interned(cache: (string | undefined)[], start: number, n: number): string | null {
    const buf = this.#buf;
    // The slot from the length and three bytes (not a hash of all of them: the comparison below
    // reads every byte anyway, and strings that share these bytes merely take turns in a slot).
    const slot = (n * 0x9e5 + ((buf[start] as number) << 6) + ((buf[start + (n >> 1)] as number) << 3) + (buf[start + n - 1] as number)) & (cache.length - 1);
    const cached = cache[slot];
    if (cached?.length === n) {
      let same = true;
      for (let i = 0; i < n; i++) {
        if (cached.charCodeAt(i) !== buf[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return cached;
    }
    const s = shortAscii(buf, start, n);
    if (s !== null) cache[slot] = s;
    return s;
  }

  #bin(n: number): Buffer {
    this.#need(n);
    // A copy: the frame's memory may be reused by the transport once it is handled.
    const out = Buffer.allocUnsafe(n);
    this.#buf.copy(out, 0, this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  #enter(): void {
    if (++this.#depth > MAX_DEPTH) throw new ReadError(`the message nests deeper than ${String(MAX_DEPTH)} levels`);
  }

  #array(n: number): unknown[] {
    this.#count(n);
    this.#enter();
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = this.value();
    this.#depth--;
    return out;
  }

  #map(n: number): Record<string, unknown> {
    this.#count(n * 2);
    this.#enter();
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const raw = this.#key();
      const key = typeof raw === 'string' ? raw : typeof raw === 'number' ? String(raw) : null;
      if (key === null) throw new ReadError(`a map key of type ${typeof raw} in a plain object (Maps with such keys travel as Maps)`);
      const value = this.value();
      if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      else out[key] = value;
    }
    this.#depth--;
    return out;
  }

  #ext(length: number, type: number): unknown {
    this.#need(length);
    const ext = this.#extensions[type];
    if (ext === undefined) throw new ReadError(`unknown extension type ${String(type)} at byte ${String(this.#pos)}`);
    const end = this.#pos + length;
    const outer = this.#end;
    this.#end = end;
    this.#enter();
    let value: unknown;
    try {
      value = ext.read(this);
      if (this.#pos !== end) throw new ReadError(`extension ${String(type)} left ${String(end - this.#pos)} bytes unread`);
    } finally {
      this.#end = outer;
    }
    this.#depth--;
    return value;
  }
}
