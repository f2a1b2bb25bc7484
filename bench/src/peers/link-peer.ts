// Receiver of the `link` benchmark: an @fdn node and a raw ws server. Counts `seq` messages
// (decoding each), echoes `echo` messages, and says `done` once the expected count arrived.

import { createWsTransport } from '@fdn/topology';
import { pack, unpack } from 'msgpackr';
import { rawWsServer } from './raw-ws.js';

const { secret } = JSON.parse(process.env.FDN_PEER ?? '{}') as { secret: string };
let expected = Number.POSITIVE_INFINITY;
let count = 0;
const DONE = pack(['done']);

const t = createWsTransport({ name: 'link-receiver', secret, idleTimeoutMs: 60_000 });
t.onMessage('default', (connection, payload) => {
  const msg = unpack(payload) as unknown[];
  if (msg[0] === 'echo') {
    connection.send('default', payload);
  } else if (++count === expected) {
    connection.send('control', DONE);
  }
});
await t.start();

const wsUrl = await rawWsServer(() => expected);

process.on('message', (m: { expect?: number }) => {
  if (m.expect !== undefined) {
    expected = m.expect;
    count = 0;
    process.send?.({ ready: true });
  }
});
process.send?.({ address: t.self.addresses[0], ws: wsUrl });
