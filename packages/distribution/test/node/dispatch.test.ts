// The dispatcher: each message kind reaches the one handler registered for it; what cannot be
// decoded, is not a protocol message, has no handler or breaks its handler is dropped, counted
// and logged, and the next message is handled.

import { createRuntime } from '@fdn/actors';
import { memoryLogger, VirtualClock } from '@fdn/core';
import { describe, expect, it } from 'vitest';
import { Codec } from '../../src/codec/codec.ts';
import { Dispatcher } from '../../src/node/dispatch.ts';
import { Kind } from '../../src/node/protocol.ts';
import type { Message } from '../../src/node/protocol.ts';

function setup() {
  const clock = new VirtualClock();
  const logger = memoryLogger();
  const codec = new Codec(createRuntime({ node: 'here', clock }));
  return { codec, logger, dispatch: new Dispatcher(codec, clock, logger) };
}

describe('Dispatcher', () => {
  it('hands each message to the handler of its kind, with the sender', () => {
    const { codec, dispatch } = setup();
    const got: [string, Message][] = [];
    dispatch.register(Kind.Load, (from, m) => got.push([from, m]));
    dispatch.register(Kind.Leaving, (from, m) => got.push([from, m]));
    dispatch.receiveFrame('a', codec.encode([Kind.Load, { processes: 1 }]));
    dispatch.receiveFrame('b', codec.encode([Kind.Leaving]));
    expect(got).toEqual([
      ['a', [Kind.Load, { processes: 1 }]],
      ['b', [Kind.Leaving]],
    ]);
    expect(dispatch.dropped).toBe(0);
  });

  it('refuses a second handler for a kind (two features cannot both own one)', () => {
    const { dispatch } = setup();
    dispatch.register(Kind.Load, () => undefined);
    expect(() => {
      dispatch.register(Kind.Load, () => undefined);
    }).toThrow(/has a handler already/);
  });

  it('drops and counts what it cannot use, logs FDN_ERR_DECODE_FAILED once per peer per 10 s, and goes on', () => {
    const { codec, dispatch, logger } = setup();
    const got: Message[] = [];
    dispatch.register(Kind.Leaving, (_from, m) => got.push(m));
    dispatch.register(Kind.Load, () => {
      throw new Error('a malformed load report');
    });
    dispatch.receiveFrame('bad', Buffer.from([0xc1])); // never valid msgpack
    dispatch.receiveFrame('bad', codec.encode('not an array'));
    dispatch.receiveFrame('bad', codec.encode([99, 'no such kind']));
    dispatch.receiveFrame('bad', codec.encode([Kind.Load, 'garbage']));
    dispatch.receiveFrame('bad', codec.encode([Kind.Leaving]));
    expect(dispatch.dropped).toBe(4);
    expect(got).toEqual([[Kind.Leaving]]);
    const errors = logger.entries.filter((e) => e.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.fields).toMatchObject({ code: 'FDN_ERR_DECODE_FAILED', peer: 'bad' });
  });

  it('ignores everything from a blocked node until unblocked (fault injection)', () => {
    const { codec, dispatch } = setup();
    let n = 0;
    dispatch.register(Kind.Leaving, () => n++);
    dispatch.blockFrom('x');
    dispatch.receiveFrame('x', codec.encode([Kind.Leaving]));
    dispatch.receiveFrame('y', codec.encode([Kind.Leaving]));
    dispatch.unblockAll();
    dispatch.receiveFrame('x', codec.encode([Kind.Leaving]));
    expect(n).toBe(2);
  });
});
