// The sender's store of unacknowledged messages: order, indexing and byte counts across chunk
// boundaries (big messages grow a chunk), against a plain array as the model, under random pushes and drops.

import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { Unacked } from '../../src/reliable/unacked.ts';

describe('Unacked', () => {
  it('keeps order, indexes and counts bytes across chunk boundaries', () => {
    const q = new Unacked();
    for (let i = 0; i < 5_000; i++) q.push(Buffer.from(String(i)));
    expect(q.length).toBe(5_000);
    expect(q.at(0).toString()).toBe('0');
    expect(q.at(1_024).toString()).toBe('1024');
    expect(q.at(4_999).toString()).toBe('4999');
    q.drop(1_500);
    expect(q.length).toBe(3_500);
    expect(q.at(0).toString()).toBe('1500');
    expect([...q].map(String).slice(0, 2)).toEqual(['1500', '1501']);
    q.drop(10_000);
    expect(q.length).toBe(0);
    expect(q.bytes).toBe(0);
    q.push(Buffer.from('again'));
    expect(q.at(0).toString()).toBe('again');
  });

  test.prop([fc.array(fc.oneof(fc.integer({ min: 1, max: 2_500 }).map((n) => ({ push: n })), fc.integer({ min: 0, max: 2_500 }).map((n) => ({ drop: n }))), { maxLength: 16 })], { numRuns: 40 })(
    'behaves as an array with shift',
    (ops) => {
      const q = new Unacked();
      const model: Buffer[] = [];
      let next = 0;
      let bytes = 0;
      for (const op of ops) {
        if ('push' in op) {
          for (let i = 0; i < op.push; i++) {
            // Now and then a message bigger than a chunk's slab.
            const b = Buffer.alloc(next % 997 === 0 ? 40_000 : (next % 7) + 1, next % 251);
            next++;
            q.push(b);
            model.push(b);
            bytes += b.length;
          }
        } else {
          q.drop(op.drop);
          for (const b of model.splice(0, op.drop)) bytes -= b.length;
        }
        expect(q.length).toBe(model.length);
        expect(q.bytes).toBe(bytes);
        if (model.length > 0) {
          const mid = Math.floor(model.length / 2);
          for (const i of [0, mid, model.length - 1]) expect(q.at(i).equals(model[i] as Buffer), `message ${String(i)}`).toBe(true);
        }
      }
      let i = 0;
      for (const b of q) if (!b.equals(model[i++] as Buffer)) throw new Error(`message ${String(i - 1)} differs`);
      expect(i).toBe(model.length);
    },
  );
});
