// At-least-once frames: a numbered header is spliced around its sequence number from a template,
// and must be byte for byte what encoding the whole header would give, at every size class of the
// number and for every kind of receiver incarnation (unknown, small, a wall-clock one).

import { describe, expect, it } from 'vitest';
import { Codec } from '../../src/index.ts';
import { Kind } from '../../src/node/protocol.ts';
import { ReliableFrames } from '../../src/node/reliable-frames.ts';

const codec = new Codec();
const SELF = 1_765_000_000_123;

describe('ReliableFrames', () => {
  const frames = new ReliableFrames(codec, SELF);
  const inner = codec.encode(['msg', 42, 'payload']);

  for (const peer of [null, 3, 1_765_000_000_999]) {
    it(`a numbered frame equals the header encoded whole, then the message (receiver incarnation ${String(peer)})`, () => {
      for (const seq of [1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) {
        const spliced = frames.numbered('work', seq, inner, peer);
        const whole = codec.encodeWith([Kind.Reliable, [0, 'work', SELF, seq, null, peer]], inner);
        expect(Buffer.compare(spliced, whole), `seq ${String(seq)}`).toBe(0);
        // And it reads back as the receiver reads it: the header, then exactly the message's bytes.
        expect(codec.decodeHead(spliced)).toEqual([Kind.Reliable, [0, 'work', SELF, seq, null, peer]]);
        expect(Buffer.compare(spliced.subarray(codec.headEnd), inner)).toBe(0);
      }
    });
  }

  it('keeps one template per channel and receiver incarnation (a frame for one never carries another’s)', () => {
    const a = codec.decodeHead(frames.numbered('a', 9, inner, 5));
    const b = codec.decodeHead(frames.numbered('b', 9, inner, 6));
    const a2 = codec.decodeHead(frames.numbered('a', 10, inner, 7));
    expect(a).toEqual([Kind.Reliable, [0, 'a', SELF, 9, null, 5]]);
    expect(b).toEqual([Kind.Reliable, [0, 'b', SELF, 9, null, 6]]);
    expect(a2).toEqual([Kind.Reliable, [0, 'a', SELF, 10, null, 7]]);
    // Many restarts of the peer: still right after the template cache is cleared.
    for (let inc = 100; inc < 120; inc++) expect(codec.decodeHead(frames.numbered('a', inc, inner, inc))).toEqual([Kind.Reliable, [0, 'a', SELF, inc, null, inc]]);
  });

  it('an ack is the header alone', () => {
    const ack = frames.ack('work', 77, 1_000);
    expect(codec.decodeHead(ack)).toEqual([Kind.Reliable, [1, 'work', 77, 1_000]]);
    expect(codec.headEnd).toBe(ack.length);
  });
});
