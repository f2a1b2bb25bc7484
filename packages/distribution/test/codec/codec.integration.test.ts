// Every kind of value the README says travels, sent to a node in another OS process and back:
// the receiving node sees the same classes (its own shape report), and so does the sender when
// the value returns. Regression: a bigint beyond 64 bits used to kill the connection.

import { ActorError, ErrorCode, isDownMessage, isExitMessage, Pid } from '@fdn/actors';
import type { ProcessContext } from '@fdn/actors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DistributionError, DistributionErrorCode, startNode } from '../../src/index.ts';
import type { Node } from '../../src/index.ts';
import { shapeOf } from '../fixtures/shape.ts';
import type { Shape } from '../fixtures/shape.ts';
import { killAll, spawnChildNode } from '../process-node.ts';
import { until } from '../helpers.ts';

const SECRET = 'codec-integration-secret';
let a: Node;
const connectionDowns: string[] = [];

beforeAll(async () => {
  a = await startNode({ name: 'a', secret: SECRET });
  await spawnChildNode({ name: 'b', secret: SECRET, seeds: [a.addresses[0] as string] });
  await until(() => a.nodes().includes('b'), 'b connected');
  a.transport.on('connectionDown', (connection) => connectionDowns.push(connection.peer.name));
});

afterAll(async () => {
  await killAll();
  await a.stop();
});

/** Sends `value` to b's mirror; resolves with the value as it came back and its shape on b. */
function viaB(value: unknown): Promise<{ value: unknown; shape: Shape }> {
  return a.runtime.run(async (ctx: ProcessContext) => {
    ctx.send({ name: 'mirror', node: 'b' }, { from: ctx.self, value });
    const reply = await ctx.receive((m): m is { value: unknown; shape: Shape } => typeof m === 'object' && m !== null && 'shape' in m, 5_000);
    if (typeof reply === 'symbol') throw new Error('no answer from b');
    return reply;
  });
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

describe('values across two nodes in two OS processes', () => {
  const cases: [string, () => unknown][] = [
    ['pids: this node’s, the remote node’s own, a dead one', () => [a.runtime.systemPid, new Pid('b', 999_999, 1), new Pid('zz', 1, 1)]],
    ['refs', () => a.runtime.makeRef()],
    ['errors with code, stack and cause', () => new DistributionError(DistributionErrorCode.NOCONNECTION, 'gone', { cause: new RangeError('inner') })],
    ['an actor error with its exit reason', () => new ActorError(ErrorCode.CALL_EXIT, 'exited', { reason: { shutdown: 'bye' } })],
    ['Maps with non-string keys, nested', () => new Map<unknown, unknown>([[1, 2], ['1', 'one'], [2n ** 70n, new Map([[true, null]])], [new Pid('b', 1, 1), [1]]])],
    ['Sets', () => new Set([1, 'a', new Set([undefined])])],
    ['Buffers and typed arrays', () => ({ buf: Buffer.from('bytes'), u8: new Uint8Array([1, 2]), f64: new Float64Array([Math.PI]), i64: new BigInt64Array([-5n]), ab: new Uint8Array([9]).buffer })],
    ['bigints, small, at 64 bits and beyond (this used to kill the connection)', () => [1n, -(2n ** 63n), 2n ** 64n, -(3n ** 100n)]],
    ['Dates', () => [new Date(0), new Date(1_700_000_000_001)]],
    ['undefined is not null', () => ({ u: undefined, n: null, list: [undefined, null] })],
    ['a nested mix', () => ({ at: new Date(5), who: [a.runtime.systemPid], data: new Map([['rows', [{ id: 1n, tags: new Set(['x']), raw: Buffer.from([0]) }]]]), err: new Error('e') })],
    ['numbers: -0, NaN, Infinity, fractions, 2^53', () => [-0, NaN, Infinity, 0.1, 2 ** 53]],
  ];

  for (const [name, make] of cases) {
    it(name, async () => {
      const value = make();
      const back = await viaB(value);
      expect(back.shape).toEqual(shapeOf(value));
      expect(shapeOf(back.value)).toEqual(shapeOf(value));
      expect(back.value).toEqual(value);
    });
  }

  it('the runtime’s own messages (DOWN, EXIT) are still recognised on the other node and back', async () => {
    const [down, exit] = await a.runtime.run(async (ctx) => {
      ctx.trapExit(true);
      const ref = ctx.monitor(new Pid('a', 123_456, a.runtime.incarnation));
      const d = await ctx.receive(isDownMessage, 1_000);
      const child = ctx.spawnLink(() => {
        throw new Error('child failed');
      });
      const e = await ctx.receive((m) => isExitMessage(m) && m.from.equals(child), 1_000);
      expect(typeof d === 'symbol' ? null : d.ref.equals(ref)).toBe(true);
      return [d, e];
    });
    const back = await viaB([down, exit]);
    expect(back.shape).toEqual(shapeOf([down, exit]));
    const [d, e] = back.value as unknown[];
    expect(isDownMessage(d)).toBe(true);
    expect(isExitMessage(e)).toBe(true);
  });

  it('class instances arrive as plain objects of their fields (documented)', async () => {
    const back = await viaB(new Point(1, 2));
    expect(back.shape).toEqual({ Object: { x: 'number', y: 'number' } });
    expect(back.value).toEqual({ x: 1, y: 2 });
  });

  it('what cannot travel is refused at send with FDN_ERR_ENCODE_FAILED, and nothing else is disturbed', async () => {
    for (const bad of [{ f: () => 1 }, { s: Symbol('x') }, { p: Promise.resolve() }, { w: new WeakMap() }]) {
      expect(() => a.send({ name: 'mirror', node: 'b' }, bad)).toThrow(expect.objectContaining({ code: DistributionErrorCode.ENCODE_FAILED }) as Error);
    }
    expect((await viaB('fine')).value).toBe('fine');
  });

  it('no connection went down during any of it', () => {
    expect(connectionDowns).toEqual([]);
  });
});
