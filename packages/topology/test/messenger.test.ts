// The messenger: a message for several connections is encoded once (a broadcast's eager push, an
// overlay state gossiped to every neighbour), and the simulator's connections still get the value.

import { describe, expect, it } from 'vitest';
import { Messenger, Tag } from '../src/messenger/messenger.ts';
import type { Connection, Transport } from '../src/transport/types.ts';
import { silentLogger } from '@fdn/core';

function byteConnection(name: string, sent: Uint8Array[]): Connection {
  return { peer: { name }, up: true, send: (_channel: string, payload: Uint8Array) => (sent.push(payload), 'sent') } as unknown as Connection;
}

/** A fresh transport each time: `Messenger.of` keeps one messenger per (transport, channel). */
function fakeTransport(): Transport {
  return { onMessage: () => undefined } as unknown as Transport;
}

describe('Messenger.prepare', () => {
  it('encodes once for every connection it goes to: each gets the same bytes', () => {
    const m = Messenger.of(fakeTransport(), 'control', silentLogger());
    const sent: Uint8Array[] = [];
    const prepared = m.prepare(Tag.PLUMTREE, { t: 'g', p: Buffer.alloc(4096, 7) });
    for (const name of ['a', 'b', 'c', 'd']) prepared.sendTo(byteConnection(name, sent));
    expect(sent).toHaveLength(4);
    for (const bytes of sent) expect(bytes).toBe(sent[0]);
    expect(sent[0]?.[0]).toBe(Tag.PLUMTREE);
  });

  it('gives a value connection (the simulator) the value itself, and encodes nothing for it', () => {
    const m = Messenger.of(fakeTransport(), 'control', silentLogger());
    const values: unknown[] = [];
    const sim = {
      peer: { name: 's' },
      up: true,
      send: () => {
        throw new Error('bytes sent to a value connection');
      },
      sendValue: (_c: string, _t: number, v: unknown) => (values.push(v), 'sent'),
    } as unknown as Connection;
    const message = { t: 'state' };
    m.prepare(Tag.OVERLAY, message).sendTo(sim);
    expect(values).toEqual([message]);
    expect(values[0]).toBe(message);
  });
});
