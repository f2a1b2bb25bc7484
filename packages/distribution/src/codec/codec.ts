// What crosses the wire between nodes: MessagePack with this codec's own extension types (see
// extensions.ts), so a value arrives as the value it left: Maps with any keys, Sets, Dates,
// bigints of any size, undefined (not null), typed arrays, errors with their code, cause and
// stack, pids, refs, and the runtime's call/cast/reply/DOWN/EXIT messages. Buffers travel as
// MessagePack bin. Other class instances arrive as plain objects of their own fields; functions,
// symbols, promises and weak collections are refused in the sender.
//
// Each codec holds its own extension tables: nothing here is process-wide, so what else is loaded
// (another layer's msgpack, a second node in the same process) never changes this wire format.

import { Pid } from '@fdn/actors';
import type { Runtime } from '@fdn/actors';
import { DistributionError, DistributionErrorCode } from '../errors/errors.ts';
import { distributionExtensions, ExtType } from './extensions.ts';
import type { PidFactory } from './extensions.ts';
import { WriteError } from './msgpack/errors.ts';
import { Reader } from './msgpack/reader.ts';
import type { Cursor } from './msgpack/reader.ts';
import { Writer } from './msgpack/writer.ts';

/** What the codec needs from its node: how to turn a decoded pid into the runtime's own. */
export interface CodecOptions {
  /** Default: a new `Pid` each time (a runtime's `pidFor` gives live local processes their own object). */
  pidFor?: PidFactory;
}

/** Encodes and decodes the frames of one node. */
export class Codec {
  /** The extension types this codec uses (a wire-protocol constant). */
  static readonly extensionTypes: readonly number[] = Object.values(ExtType);

  readonly #writer = new Writer();
  readonly #reader = new Reader();
  #encodes = 0;

  constructor(source: Runtime | CodecOptions = {}) {
    const pidFor: PidFactory =
      'pidFor' in source && typeof source.pidFor === 'function'
        ? (node, id, incarnation) => (source.pidFor as PidFactory)(node, id, incarnation)
        : (node, id, incarnation) => new Pid(node, id, incarnation);
    const { classes, readers, bigint, undefinedType } = distributionExtensions(pidFor);
    for (const ext of classes) this.#writer.register(ext);
    for (const ext of readers) this.#reader.register(ext);
    this.#writer.registerPrimitives(undefinedType, bigint);
  }

  /** Values encoded by this codec so far (`encode` calls): how a fan-out shows it encoded once. */
  get encodes(): number {
    return this.#encodes;
  }

  /** Encodes `value`; throws FDN_ERR_ENCODE_FAILED (in the sender) if it cannot be sent. */
  encode(value: unknown): Buffer {
    this.#encodes++;
    try {
      return this.#writer.encode(value);
    } catch (err) {
      throw encodeFailed(err);
    }
  }

  /** Encodes several values one after the other, as one frame. */
  encodeAll(values: readonly unknown[]): Buffer {
    try {
      return this.#writer.encodeAll(values);
    } catch (err) {
      throw encodeFailed(err);
    }
  }

  /** A frame of `header` followed by `encoded` (a value this codec encoded before), without encoding it again. */
  encodeWith(header: unknown, encoded: Uint8Array): Buffer {
    try {
      return this.#writer.encodeWith(header, encoded);
    } catch (err) {
      throw encodeFailed(err);
    }
  }

  /** A frame of a header encoded before with the integer `n` spliced in, then `encoded` (see {@link Writer.encodeSpliced}). */
  encodeSpliced(head: Uint8Array, n: number, tail: Uint8Array, encoded: Uint8Array): Buffer {
    return this.#writer.encodeSpliced(head, n, tail, encoded);
  }

  /** Decodes a frame of one value; throws FDN_ERR_DECODE_FAILED on anything else. */
  decode(bytes: Uint8Array): unknown {
    try {
      return this.#reader.decode(bytes);
    } catch (err) {
      throw decodeFailed(err);
    }
  }

  /**
   * Decodes the first value of a frame (a header) and returns it; `headEnd` is then the offset of
   * what follows it (bytes encoded before and wrapped with `encodeWith`), `bytes.length` if nothing.
   */
  decodeHead(bytes: Uint8Array): unknown {
    try {
      return this.#reader.decodeHead(bytes);
    } catch (err) {
      throw decodeFailed(err);
    }
  }

  /** Where the bytes after the last `decodeHead`'s value start. */
  get headEnd(): number {
    return this.#reader.position;
  }

  /** Reads a frame of several values one by one (each `next` throws FDN_ERR_DECODE_FAILED on garbage). */
  cursor(bytes: Uint8Array): Cursor {
    const cursor = this.#reader.cursor(bytes);
    return {
      next: () => {
        try {
          return cursor.next();
        } catch (err) {
          throw decodeFailed(err);
        }
      },
      get done() {
        return cursor.done;
      },
      rest: () => cursor.rest(),
    };
  }
}

function encodeFailed(err: unknown): DistributionError {
  if (err instanceof DistributionError) return err;
  const why = err instanceof WriteError ? err.message : `cannot encode the message: ${(err as Error).message}`;
  return new DistributionError(DistributionErrorCode.ENCODE_FAILED, `${why}. Send data: plain objects, arrays, strings, numbers, bigints, booleans, null/undefined, Buffers and typed arrays, Maps, Sets, Dates, errors, pids and refs`, { cause: err });
}

function decodeFailed(err: unknown): DistributionError {
  return new DistributionError(DistributionErrorCode.DECODE_FAILED, `cannot decode a message: ${(err as Error).message}`, { cause: err });
}
