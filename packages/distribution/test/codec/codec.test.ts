// The codec on its own: every value the README says travels comes back as it left, garbage is
// refused with FDN_ERR_DECODE_FAILED (never a crash), the extension types collide with nothing
// msgpackr gives a meaning to, and the wire format does not depend on what else is loaded.

import { createRuntime, Pid, Ref } from '@fdn/actors';
import { Wire } from '@fdn/actors/internal';
import { fc, test } from '@fast-check/vitest';
import { Packr, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { Codec, DistributionErrorCode } from '../../src/index.ts';

const codec = new Codec();
const roundTrip = <T>(v: T): T => codec.decode(codec.encode(v)) as T;

/**
 * MessagePack's size classes at their edges: each value is written in the smallest form the
 * specification allows (its first byte says which), comes back as it left, and a reference
 * decoder (msgpackr's `unpack`) reads the same value, so the bytes are standard MessagePack.
 */
describe('codec: every MessagePack size class, at its edges', () => {
  const cases: [string, unknown, number][] = [
    ['positive fixint 0', 0, 0x00],
    ['positive fixint 127', 127, 0x7f],
    ['uint8 128', 128, 0xcc],
    ['uint8 255', 255, 0xcc],
    ['uint16 256', 256, 0xcd],
    ['uint16 65535', 65_535, 0xcd],
    ['uint32 65536', 65_536, 0xce],
    ['uint32 2^32-1', 2 ** 32 - 1, 0xce],
    ['uint64 2^32', 2 ** 32, 0xcf],
    ['uint64 2^53-1', Number.MAX_SAFE_INTEGER, 0xcf],
    ['negative fixint -1', -1, 0xff],
    ['negative fixint -32', -32, 0xe0],
    ['int8 -33', -33, 0xd0],
    ['int8 -128', -128, 0xd0],
    ['int16 -129', -129, 0xd1],
    ['int16 -32768', -32_768, 0xd1],
    ['int32 -32769', -32_769, 0xd2],
    ['int32 -2^31', -(2 ** 31), 0xd2],
    ['int64 -2^31-1', -(2 ** 31) - 1, 0xd3],
    ['int64 -(2^53-1)', Number.MIN_SAFE_INTEGER, 0xd3],
    ['float64 0.5', 0.5, 0xcb],
    ['float64 2^53', 2 ** 53, 0xcb],
    ['fixstr 0', '', 0xa0],
    ['fixstr 31', 'x'.repeat(31), 0xbf],
    ['str8 32', 'x'.repeat(32), 0xd9],
    ['str8 255', 'x'.repeat(255), 0xd9],
    ['str16 256', 'x'.repeat(256), 0xda],
    ['str16 65535', 'x'.repeat(65_535), 0xda],
    ['str32 65536', 'x'.repeat(65_536), 0xdb],
    ['str8 non-ASCII (bytes, not characters)', 'é'.repeat(16), 0xd9],
    ['bin8 0', Buffer.alloc(0), 0xc4],
    ['bin8 255', Buffer.alloc(255, 1), 0xc4],
    ['bin16 256', Buffer.alloc(256, 2), 0xc5],
    ['bin16 65535', Buffer.alloc(65_535, 3), 0xc5],
    ['bin32 65536', Buffer.alloc(65_536, 4), 0xc6],
    ['fixarray 0', [], 0x90],
    ['fixarray 15', Array.from({ length: 15 }, (_, i) => i), 0x9f],
    ['array16 16', Array.from({ length: 16 }, (_, i) => i), 0xdc],
    ['array16 65535', Array.from({ length: 65_535 }, (_, i) => i % 100), 0xdc],
    ['array32 65536', Array.from({ length: 65_536 }, (_, i) => i % 100), 0xdd],
    ['fixmap 0', {}, 0x80],
    ['fixmap 15', Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`k${String(i)}`, i])), 0x8f],
    ['map16 16', Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${String(i)}`, i])), 0xde],
    ['map16 65535', Object.fromEntries(Array.from({ length: 65_535 }, (_, i) => [`k${String(i)}`, i % 10])), 0xde],
    ['map32 65536', Object.fromEntries(Array.from({ length: 65_536 }, (_, i) => [`k${String(i)}`, i % 10])), 0xdf],
    ['nil', null, 0xc0],
    ['false', false, 0xc2],
    ['true', true, 0xc3],
  ];
  for (const [what, value, first] of cases) {
    it(what, () => {
      const bytes = codec.encode(value);
      expect(bytes[0], `first byte of ${what}`).toBe(first);
      expect(roundTrip(value)).toEqual(value);
      // (msgpackr reads every 64-bit integer as a bigint.)
      const reference: unknown = unpack(bytes);
      expect(Buffer.isBuffer(value) ? Buffer.from(reference as Uint8Array) : typeof reference === 'bigint' ? Number(reference) : reference).toEqual(value);
    });
  }

  it('strings of every length from 0 to 300, ASCII and not, as keys and values', () => {
    for (let n = 0; n <= 300; n++) {
      const ascii = 'a'.repeat(n);
      const wide = 'ü€'.repeat(Math.ceil(n / 2)).slice(0, n);
      const value = { [ascii]: wide, [wide]: ascii };
      expect(roundTrip(value)).toEqual(value);
      expect(unpack(codec.encode(value))).toEqual(value);
    }
  });
});

describe('codec: values come back as they left', () => {
  it('Maps with non-string keys, nested, in order', () => {
    const inner = new Map<unknown, unknown>([[1, 'one'], [2n, 'two']]);
    const m = new Map<unknown, unknown>([[1, 2], ['1', 'string one'], [true, inner], [null, undefined], [new Pid('a', 1, 2), 'pid']]);
    const back = roundTrip({ m, list: [new Map([[3, 4]])] });
    expect(back.m).toBeInstanceOf(Map);
    expect([...back.m.keys()]).toEqual([1, '1', true, null, new Pid('a', 1, 2)]);
    expect(back.m.get(1)).toBe(2);
    expect(back.m.get('1')).toBe('string one');
    expect(back.m.get(true)).toEqual(new Map<unknown, unknown>([[1, 'one'], [2n, 'two']]));
    expect(back.m.has(null)).toBe(true);
    expect(back.list[0]).toEqual(new Map([[3, 4]]));
  });

  it('Sets, Dates (the invalid one too), RegExps', () => {
    const back = roundTrip({ s: new Set([1, 'a', new Set([2])]), d: new Date(1_700_000_000_123), bad: new Date(NaN), r: /a+b/giu });
    expect(back.s).toEqual(new Set([1, 'a', new Set([2])]));
    expect(back.d).toBeInstanceOf(Date);
    expect(back.d.getTime()).toBe(1_700_000_000_123);
    expect(Number.isNaN(back.bad.getTime())).toBe(true);
    expect(back.r).toEqual(/a+b/giu);
  });

  it('bigints of any size, including beyond 64 bits (they used to collide with the Error extension)', () => {
    for (const n of [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n, -(2n ** 64n) - 7n, 3n ** 200n, -(5n ** 300n)]) {
      const back = roundTrip(n);
      expect(typeof back).toBe('bigint');
      expect(back).toBe(n);
    }
    expect(roundTrip({ big: 2n ** 64n, n: 1 })).toEqual({ big: 2n ** 64n, n: 1 });
  });

  it('numbers keep their value: -0, NaN, ±Infinity, fractions, integers beyond 2^32 and 2^53', () => {
    for (const n of [0, -0, 1.5, -1.5, NaN, Infinity, -Infinity, 2 ** 32, -(2 ** 40), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 60, 1e300, 5e-324, 127, 128, 255, 256, 65535, 65536, -32, -33, -128, -129]) {
      expect(Object.is(roundTrip(n), n)).toBe(true);
    }
  });

  it('undefined stays undefined (not null), in objects, arrays and Maps', () => {
    const back = roundTrip({ u: undefined, n: null, a: [undefined, null], m: new Map([[undefined, null]]) });
    expect('u' in back).toBe(true);
    expect(back.u).toBeUndefined();
    expect(back.n).toBeNull();
    expect(back.a).toEqual([undefined, null]);
    expect(back.a[0]).toBeUndefined();
    expect(back.m.get(undefined)).toBeNull();
    const u = roundTrip<unknown>(undefined);
    expect(u).toBeUndefined();
  });

  it('Buffers as Buffers, each typed array as its own class, ArrayBuffers and DataViews', () => {
    const b = Buffer.from('hello');
    const views = [new Uint8Array([1, 2, 255]), new Int8Array([-1, 2]), new Uint8ClampedArray([3]), new Int16Array([-300, 2]), new Uint16Array([65535]), new Int32Array([-(2 ** 31)]), new Uint32Array([2 ** 32 - 1]), new Float32Array([1.5]), new Float64Array([Math.PI, -0]), new BigInt64Array([-(2n ** 63n)]), new BigUint64Array([2n ** 64n - 1n])];
    const back = roundTrip({ b, views, ab: new Uint8Array([9, 8]).buffer, dv: new DataView(new Uint8Array([7, 6, 5]).buffer, 1, 2) });
    expect(Buffer.isBuffer(back.b)).toBe(true);
    expect(back.b.toString()).toBe('hello');
    back.views.forEach((v, i) => {
      expect(v.constructor).toBe(views[i]?.constructor);
      expect(v).toEqual(views[i]);
    });
    expect(back.ab).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(back.ab)]).toEqual([9, 8]);
    expect(back.dv).toBeInstanceOf(DataView);
    expect([back.dv.getUint8(0), back.dv.getUint8(1)]).toEqual([6, 5]);
    // A view into part of a bigger buffer sends only its part.
    const part = new Float64Array(new Float64Array([1, 2, 3, 4]).buffer, 8, 2);
    expect(roundTrip(part)).toEqual(new Float64Array([2, 3]));
  });

  it('errors keep name, message, stack, code, cause and their own fields', () => {
    const cause = new RangeError('inner');
    const e = Object.assign(new TypeError('outer', { cause }), { code: 'E_CODE', reason: { why: 'because' }, extra: 42 });
    const back = roundTrip({ e });
    expect(back.e).toBeInstanceOf(Error);
    expect(back.e.name).toBe('TypeError');
    expect(back.e.message).toBe('outer');
    expect(back.e.stack).toBe(e.stack);
    expect(back.e.code).toBe('E_CODE');
    expect(back.e.reason).toEqual({ why: 'because' });
    expect(back.e.extra).toBe(42);
    expect(back.e.cause).toBeInstanceOf(Error);
    expect((back.e.cause as Error).name).toBe('RangeError');
    expect((back.e.cause as Error).message).toBe('inner');
    expect(Object.prototype.propertyIsEnumerable.call(back.e, 'cause')).toBe(false);
  });

  it('pids, refs and the runtime messages arrive as their classes; a live local pid as its own object', () => {
    const rt = createRuntime({ node: 'here' });
    const local = rt.spawn(async (ctx) => {
      await ctx.receive(() => false);
    });
    const withRuntime = new Codec(rt);
    const from = new Wire.FromImpl(new Pid('a', 3, 4), new Ref('a', 5, 4));
    const values = [new Wire.CallRequest(from, { q: 1 }), new Wire.CastRequest('c'), new Wire.CallReply(new Ref('b', 1, 1), [1]), new Wire.SystemRequest('stop', 'shutdown'), new Wire.DownMessageImpl(new Ref('a', 1, 1), new Pid('a', 2, 1), new Pid('a', 2, 1), 'noproc'), new Wire.DownMessageImpl(new Ref('a', 1, 1), { name: 'svc', node: 'a' }, new Pid('a', 0, 1), 'noproc'), new Wire.ExitMessageImpl(new Pid('a', 2, 1), new Error('boom'))];
    for (const v of values) {
      const back = withRuntime.decode(withRuntime.encode(v)) as object;
      expect(back.constructor).toBe(v.constructor);
      expect(back).toEqual(v);
    }
    expect(withRuntime.decode(withRuntime.encode(local))).toBe(local);
    rt.shutdown();
  });

  it('class instances arrive as plain objects of their own fields', () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
      norm(): number {
        return Math.hypot(this.x, this.y);
      }
    }
    const back = roundTrip(new Point(3, 4));
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(back).toEqual({ x: 3, y: 4 });
  });

  it('refuses what cannot cross nodes, in the sender, with FDN_ERR_ENCODE_FAILED', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const bad of [() => 1, Symbol('s'), Promise.resolve(1), new WeakMap(), new WeakSet(), cyclic, { deep: [Symbol('x')] }]) {
      expect(() => codec.encode(bad)).toThrow(expect.objectContaining({ code: DistributionErrorCode.ENCODE_FAILED }) as Error);
    }
    // The codec is still fine afterwards (a failed encode leaves nothing half-written behind).
    expect(roundTrip({ ok: true })).toEqual({ ok: true });
  });

  it('a key named __proto__ is an own property, not a prototype', () => {
    const o = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const back = roundTrip(o);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(back, '__proto__')).toBe(true);
    expect((back as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('large values: an 8 MiB Buffer, long strings, many keys, deep nesting up to the limit', () => {
    const big = Buffer.alloc(8 * 2 ** 20, 7);
    const back = roundTrip({ big, s: 'é'.repeat(70_000), keys: Object.fromEntries(Array.from({ length: 70_000 }, (_, i) => [`k${String(i)}`, i])) });
    expect(back.big.equals(big)).toBe(true);
    expect(back.s).toBe('é'.repeat(70_000));
    expect(Object.keys(back.keys)).toHaveLength(70_000);
    let deep: unknown = 'bottom';
    for (let i = 0; i < 400; i++) deep = [deep];
    expect(roundTrip(deep)).toEqual(deep);
    // Extensions bigger than 255 and 65,535 bytes (their headers widen after the payload is written).
    const m = new Map<number, unknown>([[1, 'x'.repeat(300)], [2, Buffer.alloc(70_000, 1)]]);
    expect(roundTrip(m)).toEqual(m);
  });

  test.prop([fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: false, withSparseArray: false, withBoxedValues: false, withObjectString: true })], { numRuns: 300 })(
    'any value fast-check makes comes back equal',
    (value) => {
      expect(roundTrip(value)).toEqual(value);
    },
  );
});

describe('codec: untrusted bytes', () => {
  it('garbage is FDN_ERR_DECODE_FAILED, never another exception, and lengths are checked before allocating', () => {
    const frames = [
      Buffer.from([0xc1]),
      Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]), // an array of 4 billion items in 5 bytes
      Buffer.from([0xdf, 0x7f, 0xff, 0xff, 0xff]),
      Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xff, 0x61]),
      Buffer.from([0xc9, 0x7f, 0xff, 0xff, 0xff, 0x13]),
      Buffer.from([0xd4, 0x55, 0x00]), // an unknown extension
      Buffer.from([0x92, 0x01]), // truncated
      Buffer.from([0x01, 0x02]), // a value, then more
      Buffer.from([0xc7, 0x01, ExtTypeOf('Date'), 0x00]), // a malformed date
      Buffer.from([0x81, 0xc0, 0x01]), // a nil key in a plain object
    ];
    for (const f of frames) expect(() => codec.decode(f)).toThrow(expect.objectContaining({ code: DistributionErrorCode.DECODE_FAILED }) as Error);
    let deep = Buffer.from([0x01]);
    for (let i = 0; i < 600; i++) deep = Buffer.concat([Buffer.from([0x91]), deep]);
    expect(() => codec.decode(deep)).toThrow(expect.objectContaining({ code: DistributionErrorCode.DECODE_FAILED }) as Error);
  });

  test.prop([fc.uint8Array({ maxLength: 200 })], { numRuns: 2_000 })('random bytes decode or fail with FDN_ERR_DECODE_FAILED', (bytes) => {
    try {
      codec.decode(bytes);
    } catch (err) {
      expect((err as { code?: string }).code).toBe(DistributionErrorCode.DECODE_FAILED);
    }
  });
});

describe('codec: the wire format is the codec’s own', () => {
  it('no extension type collides with a type msgpackr gives a meaning to', () => {
    // msgpackr does not export its table: probe each type with a fixext 1 and see which it knows.
    const known: number[] = [];
    for (let type = 0; type < 256; type++) {
      try {
        unpack(Buffer.from([0xd4, type, 0x00]));
        known.push(type);
      } catch (err) {
        if (!/Unknown extension/i.test((err as Error).message)) known.push(type);
      }
    }
    expect(known).toContain(0x42); // bigint: the one that used to collide with our Error extension
    expect(known).toContain(0x65);
    for (const type of Codec.extensionTypes) expect(known, `extension type 0x${type.toString(16)}`).not.toContain(type);
    expect(new Set(Codec.extensionTypes).size).toBe(Codec.extensionTypes.length);
  });

  it('two codecs and msgpackr in the same process do not change each other', () => {
    const value = { m: new Map([[1, 2]]), e: new Error('x'), n: 2n ** 70n };
    const before = Buffer.from(codec.encode(value));
    const packr = new Packr({ useRecords: false });
    const msgpackrBytes = Buffer.from(packr.pack({ m: new Map([[1, 2]]) }));
    const other = new Codec();
    other.encode(value);
    expect(Buffer.from(codec.encode(value)).equals(before)).toBe(true);
    expect(Buffer.from(packr.pack({ m: new Map([[1, 2]]) })).equals(msgpackrBytes)).toBe(true);
  });

  it('a frame of several values, and a header wrapped around bytes encoded before', () => {
    const inner = codec.encode({ msg: new Map([[1, 2]]) });
    const frame = codec.encodeWith([13, 'default', 7], inner);
    const cursor = codec.cursor(frame);
    expect(cursor.next()).toEqual([13, 'default', 7]);
    expect(cursor.rest().equals(inner)).toBe(true);
    expect(cursor.next()).toEqual({ msg: new Map([[1, 2]]) });
    expect(cursor.done).toBe(true);
    const all = codec.cursor(codec.encodeAll([1, 'two', [3]]));
    expect([all.next(), all.next(), all.next()]).toEqual([1, 'two', [3]]);
    expect(all.done).toBe(true);
  });
});

function ExtTypeOf(name: 'Date'): number {
  return { Date: 0x12 }[name];
}
