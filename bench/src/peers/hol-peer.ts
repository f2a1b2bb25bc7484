// Receiver of the `hol` benchmark: echoes pings on the channel they came on, and acknowledges each
// bulk payload on control (or on its own channel in single-channel runs).

import { createWsTransport } from '@fdn/topology';
import { startDiagnostics } from '../diagnostics.js';

const { secret } = JSON.parse(process.env.FDN_PEER ?? '{}') as { secret: string };
const t = createWsTransport({ name: 'hol-receiver', secret, idleTimeoutMs: 60_000 });
const PING_BYTES = 16;

t.onMessage('control', (connection, payload) => {
  if (payload.length === PING_BYTES) connection.send('control', payload);
});
t.onMessage('bulk', (connection, payload) => {
  const ack = Buffer.alloc(8);
  ack.writeDoubleLE(payload.length);
  connection.send('control', ack);
});
t.onMessage('default', (connection, payload) => {
  if (payload.length === PING_BYTES) {
    connection.send('default', payload);
    return;
  }
  const ack = Buffer.alloc(8);
  ack.writeDoubleLE(payload.length);
  connection.send('default', ack);
});
const diag = startDiagnostics();
process.on('message', (m: { diag?: string }) => {
  if (m.diag === 'reset') diag?.reset();
  else if (m.diag !== undefined) process.send?.({ diag: diag?.report(`receiver ${m.diag}`) ?? '' });
});
await t.start();
process.send?.({ address: t.self.addresses[0] });
