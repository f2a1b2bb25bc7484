// Receiver of the `link` benchmark: an @fdn node and a raw ws server. Counts `seq` messages
// (decoding each), echoes `echo` messages, and says `done` once the expected count arrived.

import { createWsTransport } from '@fdn/topology';
import { pack, unpack } from 'msgpackr';
import { WebSocketServer } from 'ws';

const { secret } = JSON.parse(process.env.FDN_PEER ?? '{}') as { secret: string };
let expected = Number.POSITIVE_INFINITY;
let count = 0;
const DONE = pack(['done']);

const t = createWsTransport({ name: 'link-receiver', secret, idleTimeoutMs: 60_000 });
t.onMessage('default', (link, payload) => {
  const msg = unpack(payload) as unknown[];
  if (msg[0] === 'echo') {
    link.send('default', payload);
  } else if (++count === expected) {
    link.send('control', DONE);
  }
});
await t.start();

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('message', (data: Buffer) => {
    if (data[0] === 0x01) {
      // Length-prefixed batch of individually packed messages.
      for (let pos = 1; pos < data.length; ) {
        const len = data.readUInt32LE(pos);
        unpack(data.subarray(pos + 4, pos + 4 + len));
        pos += 4 + len;
        count++;
      }
      if (count === expected) ws.send(DONE);
      return;
    }
    const msg = unpack(data) as unknown[];
    if (msg[0] === 'echo') {
      ws.send(data);
      return;
    }
    // A batch is an array of messages; a single message is an array starting with 'seq'.
    count += msg[0] === 'seq' ? 1 : msg.length;
    if (count === expected) ws.send(DONE);
  });
});
await new Promise<void>((resolve) => wss.once('listening', resolve));
const port = (wss.address() as { port: number }).port;

process.on('message', (m: { expect?: number }) => {
  if (m.expect !== undefined) {
    expected = m.expect;
    count = 0;
    process.send?.({ ready: true });
  }
});
process.send?.({ address: t.self.addresses[0], ws: `ws://127.0.0.1:${port}` });
