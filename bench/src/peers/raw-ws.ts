// The raw ws baselines shared by the `link` and `remote` suites: a server that counts or echoes
// msgpack messages (one per frame, length-prefixed batches, or msgpack arrays), and the client
// side that drives it. What "raw batched ws + msgpackr" means in the tables.

import { pack, unpack } from 'msgpackr';
import { WebSocket, WebSocketServer } from 'ws';

/** First byte of a length-prefixed batch (msgpack messages here are arrays, which never start so). */
const BATCH_MARK = Buffer.from([0x01]);
const DONE = pack(['done']);
export const TAIL = '0123456789';

/** Peer side: a raw ws server; `expected()` is how many `seq` messages make a run. Resolves with its URL. */
export async function rawWsServer(expected: () => number): Promise<string> {
  let count = 0;
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  wss.on('connection', (ws) => {
    ws.on('message', (data: Buffer) => {
      if (data[0] === 0x01) {
        for (let pos = 1; pos < data.length; ) {
          const len = data.readUInt32LE(pos);
          unpack(data.subarray(pos + 4, pos + 4 + len));
          pos += 4 + len;
          count++;
        }
      } else {
        const msg = unpack(data) as unknown[];
        if (msg[0] === 'echo') {
          ws.send(data);
          return;
        }
        if (msg[0] === 'reset') {
          count = 0;
          return;
        }
        // A batch is an array of messages; a single message is an array starting with 'seq'.
        count += msg[0] === 'seq' ? 1 : msg.length;
      }
      if (count === expected()) {
        count = 0;
        ws.send(DONE);
      }
    });
  });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  return `ws://127.0.0.1:${String((wss.address() as { port: number }).port)}`;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Client side: a connection whose `done` and echo replies resolve the current wait. */
export class RawWsClient {
  #done: (() => void) | null = null;
  #echo: (() => void) | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      if ((unpack(data) as unknown[])[0] === 'done') this.#done?.();
      else this.#echo?.();
    });
  }

  static async connect(url: string): Promise<RawWsClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise((resolve) => ws.once('open', resolve));
    return new RawWsClient(ws);
  }

  /**
   * One-way msgs/s of `n` messages ['seq', i, TAIL]. `batch` 1: one per frame; > 1: each packed on
   * its own, `batch` of them length-prefixed in a frame (what a transport does); < 0: `-batch`
   * packed as one msgpack array (a best case no general transport can use). The server must
   * expect `n` (see `rawWsServer`).
   */
  async oneway(n: number, batch: number): Promise<number> {
    const done = new Promise<void>((resolve) => (this.#done = resolve));
    const ws = this.ws;
    const t0 = performance.now();
    let i = 0;
    while (i < n) {
      if (batch === 1) {
        ws.send(pack(['seq', i, TAIL]));
        i++;
      } else if (batch < 0) {
        const msgs: unknown[] = [];
        for (let k = 0; k < -batch && i < n; k++, i++) msgs.push(['seq', i, TAIL]);
        ws.send(pack(msgs));
      } else {
        const parts: Buffer[] = [BATCH_MARK];
        for (let k = 0; k < batch && i < n; k++, i++) {
          const p = pack(['seq', i, TAIL]);
          const len = Buffer.allocUnsafe(4);
          len.writeUInt32LE(p.length);
          parts.push(len, p);
        }
        ws.send(Buffer.concat(parts));
      }
      if (ws.bufferedAmount > 4 * 1024 * 1024) {
        while (ws.bufferedAmount > 1024 * 1024) await tick();
      } else if ((i & 4095) < Math.abs(batch)) {
        await tick();
      }
    }
    await done;
    return n / ((performance.now() - t0) / 1000);
  }

  /** `count` sequential echoes; round trips in µs. */
  roundTrips(count: number): Promise<number[]> {
    return roundTrips(
      count,
      (p) => {
        this.ws.send(p);
      },
      (f) => (this.#echo = f),
    );
  }

  close(): void {
    this.ws.close();
  }
}

/** `count` sequential echoes through `send`, the reply signalled through `setEcho`; µs each. */
export async function roundTrips(count: number, send: (payload: Buffer) => void, setEcho: (f: () => void) => void): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const back = new Promise<void>((resolve) => {
      setEcho(resolve);
    });
    const t0 = performance.now();
    send(pack(['echo', i, TAIL]));
    await back;
    samples.push((performance.now() - t0) * 1000);
  }
  return samples;
}

export function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}
