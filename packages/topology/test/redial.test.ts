// The redialler: backoff per node, and at most `maxInFlight` dials at once (a node that learns a
// hundred members must not open a hundred handshakes together, each slowed past its timeout).

import { seededRandom } from "@fdn/core";
import type { TimerHandle } from "@fdn/core";
import { describe, expect, it } from "vitest";
import { Redialer } from "../src/peer-service/redial.ts";
import type { Connection, PeerSpec } from "../src/index.ts";

interface Pending {
  name: string;
  settle: (ok: boolean) => void;
}

function harness(maxInFlight?: number): {
  redialer: Redialer;
  running: Pending[];
  timers: (() => void)[];
  wanted: Set<string>;
} {
  const running: Pending[] = [];
  const timers: (() => void)[] = [];
  const wanted = new Set<string>();
  const redialer = new Redialer({
    firstMs: 100,
    maxMs: 1_000,
    ...(maxInFlight === undefined ? {} : { maxInFlight }),
    dial: (spec) =>
      new Promise<Connection>((resolve, reject) => {
        running.push({
          name: spec.name,
          settle: (ok) => {
            if (ok) resolve({} as Connection);
            else reject(new Error("refused"));
          },
        });
      }),
    wanted: (name) => wanted.has(name),
    after: (_ms, fn) => {
      timers.push(fn);
      return timers.length as unknown as TimerHandle;
    },
    cancel: () => undefined,
    random: seededRandom(1),
  });
  return { redialer, running, timers, wanted };
}

const spec = (i: number): PeerSpec => ({
  name: `n${String(i)}`,
  addresses: [`ws://127.0.0.1:${String(9000 + i)}`],
});
const turn = (): Promise<void> =>
  new Promise((resolve) => setImmediate(resolve));

describe("Redialer", () => {
  it("runs at most maxInFlight dials; the others start as those finish, in order", async () => {
    const { redialer, running, wanted } = harness(3);
    for (let i = 0; i < 10; i++) {
      wanted.add(`n${String(i)}`);
      redialer.dial(spec(i));
    }
    expect(running.map((p) => p.name)).toEqual(["n0", "n1", "n2"]);
    expect(redialer.inFlight).toBe(3);
    expect(redialer.pending()).toHaveLength(10);
    running[0]?.settle(true);
    running[1]?.settle(false);
    await turn();
    expect(running.map((p) => p.name)).toEqual(["n0", "n1", "n2", "n3", "n4"]);
    expect(redialer.inFlight).toBe(3);
  });

  it("a node connected (or no longer wanted) while it waits for a slot is not dialled", async () => {
    const { redialer, running, wanted } = harness(1);
    for (let i = 0; i < 4; i++) {
      wanted.add(`n${String(i)}`);
      redialer.dial(spec(i));
    }
    redialer.connected("n1");
    wanted.delete("n2");
    running[0]?.settle(true);
    await turn();
    expect(running.map((p) => p.name)).toEqual(["n0", "n3"]);
    expect(redialer.pending()).toEqual(["n3"]);
  });

  it("a failed dial is retried after its backoff; unbounded by default", async () => {
    const { redialer, running, timers, wanted } = harness();
    for (let i = 0; i < 20; i++) {
      wanted.add(`n${String(i)}`);
      redialer.dial(spec(i));
    }
    expect(running).toHaveLength(20);
    running[5]?.settle(false);
    await turn();
    expect(timers).toHaveLength(1);
    timers[0]?.();
    expect(running.at(-1)?.name).toBe("n5");
  });
});
