// What crosses the wire between nodes: msgpack (msgpackr) with extension types for pids, refs,
// errors, Maps and the runtime's own messages (call, cast, reply, DOWN, EXIT), so a GenServer on
// another node sees the same classes as a local one. Binary data (Buffer, Uint8Array) is carried
// as msgpack bin, not copied into another representation.
//
// msgpackr's extensions are process-wide; decoding a pid needs the receiving node's runtime (a
// pid naming a live local process must come out as that process's own pid object). Decoding is
// synchronous, so the node that decodes sets itself as the current decoder around each call.

import { Pid, Ref, Wire } from '@fdn/actors';
import type { Runtime } from '@fdn/actors';
import { addExtension, Packr } from 'msgpackr';
import { DistributionError, DistributionErrorCode } from '../errors/errors.ts';

/** Extension type numbers (0x40–0x5f are ours). Part of the wire protocol: never renumber. */
const enum Ext {
  Pid = 0x40,
  Ref = 0x41,
  Error = 0x42,
  Map = 0x43,
  CallRequest = 0x44,
  CastRequest = 0x45,
  CallReply = 0x46,
  From = 0x47,
  SystemRequest = 0x48,
  Down = 0x49,
  Exit = 0x4a,
  Function = 0x4b,
}

let decodingFor: Runtime | null = null;

const pidFor = (node: string, id: number, incarnation: number): Pid => decodingFor?.pidFor(node, id, incarnation) ?? new Pid(node, id, incarnation);

addExtension({ Class: Pid, type: Ext.Pid, write: (p: Pid) => [p.node, p.id, p.incarnation], read: ([n, i, c]: [string, number, number]) => pidFor(n, i, c) });
addExtension({ Class: Ref, type: Ext.Ref, write: (r: Ref) => [r.node, r.id, r.incarnation], read: ([n, i, c]: [string, number, number]) => new Ref(n, i, c) });
addExtension({
  Class: Error,
  type: Ext.Error,
  // An error crosses as its name, message, stack and code (an exit reason, a failed call's cause).
  write: (e: Error & { code?: unknown }) => [e.name, e.message, e.stack ?? null, typeof e.code === 'string' ? e.code : null],
  read: ([name, message, stack, code]: [string, string, string | null, string | null]) => {
    const err = new Error(message) as Error & { code?: string };
    err.name = name;
    if (stack !== null) err.stack = stack;
    if (code !== null) err.code = code;
    return err;
  },
});
addExtension({ Class: Map, type: Ext.Map, write: (m: Map<unknown, unknown>) => [...m], read: (entries: [unknown, unknown][]) => new Map(entries) });
addExtension({ Class: Wire.FromImpl, type: Ext.From, write: (f: Wire.FromImpl) => [f.pid, f.ref], read: ([pid, ref]: [Pid, Ref]) => new Wire.FromImpl(pid, ref) });
addExtension({ Class: Wire.CallRequest, type: Ext.CallRequest, write: (c: Wire.CallRequest) => [c.from, c.request], read: ([from, request]: [Wire.FromImpl, unknown]) => new Wire.CallRequest(from, request) });
addExtension({ Class: Wire.CastRequest, type: Ext.CastRequest, write: (c: Wire.CastRequest) => [c.request], read: ([request]: [unknown]) => new Wire.CastRequest(request) });
addExtension({ Class: Wire.CallReply, type: Ext.CallReply, write: (c: Wire.CallReply) => [c.ref, c.value], read: ([ref, value]: [Ref, unknown]) => new Wire.CallReply(ref, value) });
addExtension({
  Class: Wire.SystemRequest,
  type: Ext.SystemRequest,
  write: (s: Wire.SystemRequest) => [s.op, s.reason],
  read: ([op, reason]: ['getState' | 'stop', unknown]) => new Wire.SystemRequest(op, reason),
});
addExtension({ Class: Wire.DownMessageImpl, type: Ext.Down, write: (d: Wire.DownMessageImpl) => [d.ref, d.pid, d.reason], read: ([ref, pid, reason]: [Ref, Pid, unknown]) => new Wire.DownMessageImpl(ref, pid, reason) });
addExtension({ Class: Wire.ExitMessageImpl, type: Ext.Exit, write: (e: Wire.ExitMessageImpl) => [e.from, e.reason], read: ([from, reason]: [Pid, unknown]) => new Wire.ExitMessageImpl(from, reason) });
addExtension({
  Class: Function,
  type: Ext.Function,
  // msgpackr would send a function as nil; a message that silently loses a field is worse than an error.
  write: (f: (...args: unknown[]) => unknown) => {
    throw new DistributionError(DistributionErrorCode.ENCODE_FAILED, `cannot send a function (${f.name || 'anonymous'}): functions never cross nodes`);
  },
  read: () => null,
});

/** Encodes and decodes the frames of one node. */
export class Codec {
  readonly #packr = new Packr({ useRecords: false, moreTypes: true });

  constructor(readonly runtime: Runtime) {}

  /** Encodes `value`; throws FDN_ERR_ENCODE_FAILED (in the sender) if it cannot be sent. */
  encode(value: unknown): Buffer {
    try {
      return this.#packr.pack(value);
    } catch (err) {
      if (err instanceof DistributionError) throw err;
      throw new DistributionError(DistributionErrorCode.ENCODE_FAILED, `cannot encode the message: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Decodes a frame; throws FDN_ERR_DECODE_FAILED on garbage. */
  decode(bytes: Uint8Array): unknown {
    decodingFor = this.runtime;
    try {
      return this.#packr.unpack(bytes);
    } catch (err) {
      throw new DistributionError(DistributionErrorCode.DECODE_FAILED, `cannot decode a frame: ${(err as Error).message}`, { cause: err });
    } finally {
      decodingFor = null;
    }
  }
}
