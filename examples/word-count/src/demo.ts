// `npm run demo`: three worker nodes in their own OS processes on 127.0.0.1 and a control node
// (this process) run a word count as an ecosystem: a coordinator here, six workers spread over
// the three nodes. Part-way through, one worker node is killed with SIGKILL. The ecosystem sees
// the node go, respawns its workers on the other two, the coordinator puts the chunks they held
// back in the queue, and the count finishes — and is checked against a count done here.

import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '@fdn/core';
import { ecosystemInfo, spawnEcosystem, startNode } from '@fdn/distribution';
import type { Node } from '@fdn/distribution';
import { coordinator, countWords, WORKER } from './word-count.ts';
import type { CoordinatorEvent, Counts } from './word-count.ts';

const CHUNKS = 90;
const WORKERS = 6;
const WORK_MS = 300;
const KILL_AT = 0.35;
const DEADLINE_MS = 55_000;

const started = performance.now();
const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s`;
const say = (line: string): void => {
  process.stdout.write(`${elapsed()}  ${line}\n`);
};

/** The text: deterministic, so every run counts the same words. */
function makeChunks(): string[] {
  const words = ['actor', 'node', 'link', 'monitor', 'supervisor', 'mailbox', 'overlay', 'gossip', 'broadcast', 'pid', 'exit', 'signal', 'tree', 'queue', 'worker'];
  const random = seededRandom(2026);
  return Array.from({ length: CHUNKS }, () => Array.from({ length: 400 }, () => random.pick(words) as string).join(' '));
}

function sameCounts(a: Counts, b: Counts): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (a[k] !== b[k]) return false;
  return true;
}

async function startWorkerNode(name: string, secret: string, seed: string): Promise<ChildProcess> {
  const child = fork(fileURLToPath(new URL('./worker-node.ts', import.meta.url)), [], {
    env: { ...process.env, FDN_NODE: JSON.stringify({ name, secret, seeds: [seed] }) },
    execArgv: ['--conditions=@fdn/source', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`worker node ${name} did not start within 15 s`));
    }, 15_000);
    child.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker node ${name} exited (${String(code)}) before it was ready`));
    });
  });
  return child;
}

async function main(): Promise<number> {
  const secret = randomBytes(16).toString('hex');
  const control: Node = await startNode({ name: 'control', secret });
  say(`control node up at ${control.addresses[0] ?? '?'}; starting worker nodes w1, w2, w3 (OS processes)`);
  const children = new Map<string, ChildProcess>();
  let offNodeEvents = (): void => undefined;
  try {
    for (const name of ['w1', 'w2', 'w3']) children.set(name, await startWorkerNode(name, secret, control.addresses[0] as string));
    for (let i = 0; i < 500 && control.nodes().length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    say(`cluster: ${['control', ...control.nodes()].join(', ')}`);

    const chunks = makeChunks();
    const expected = countWords(chunks.join(' '));
    // Set from callbacks (node events, telemetry) as well as the loop below.
    const times: { killedAt: number | null; recoveredAt: number | null } = { killedAt: null, recoveredAt: null };
    offNodeEvents = control.onNodeEvent((e) => {
      if (e.type === 'nodedown') say(`✗ node ${e.node} is down (${e.reason}), ${times.killedAt === null ? '' : `${String(Math.round(performance.now() - times.killedAt))} ms after the kill`}`);
    });
    // Workers the killed node held, and how many have been respawned elsewhere since.
    let onKilledNode = 0;
    let respawned = 0;
    control.runtime.telemetry.attach('fdn.ecosystem.respawn', (_event, m, meta) => {
      respawned++;
      say(`↻ respawned worker slot ${String(m.slot)} on ${String(meta.node)} (${String(meta.reason)})`);
      if (times.killedAt !== null && times.recoveredAt === null && respawned >= onKilledNode) {
        times.recoveredAt = performance.now();
        say(`✓ all ${String(WORKERS)} workers running again, ${String(Math.round(times.recoveredAt - times.killedAt))} ms after the kill`);
      }
    });

    const result = await control.runtime.run(async (ctx) => {
      const eco = await spawnEcosystem(control, {
        name: 'word-count',
        coordinator,
        coordinatorArgs: { chunks, notify: ctx.self, observer: ctx.self },
        workers: { behaviour: WORKER, count: WORKERS, args: [{ delayMs: WORK_MS }] },
        distribution: { policy: 'explicitNodes', nodes: ['w1', 'w2', 'w3'], placement: 'roundRobin' },
      });
      const info = await ecosystemInfo(control, eco);
      say(`ecosystem '${eco.name}': coordinator on ${info.coordinator.node}, workers ${JSON.stringify(info.workersPerNode)}`);
      onKilledNode = info.workersPerNode.w2 ?? 0;
      let lastShown = -1;
      for (;;) {
        const m = (await ctx.receive(undefined, DEADLINE_MS)) as CoordinatorEvent | symbol;
        if (typeof m === 'symbol') throw new Error('no progress for too long');
        if (m.type === 'finished') return { totals: m.totals, requeued: m.requeued, info: await ecosystemInfo(control, eco) };
        if (m.type === 'requeued') {
          say(`↺ chunk ${String(m.id)} back in the queue (${m.why})`);
          continue;
        }
        const perNode = Object.entries(m.workers).map(([n, c]) => `${n}:${String(c)}`).join(' ');
        if (m.done - lastShown >= 6 || m.done === m.total) {
          lastShown = m.done;
          const bar = '█'.repeat(Math.round((m.done / m.total) * 30)).padEnd(30, '·');
          say(`${bar} ${String(m.done).padStart(2)}/${String(m.total)} chunks   workers ${perNode}`);
        }
        if (times.killedAt === null && m.done >= m.total * KILL_AT) {
          times.killedAt = performance.now();
          say('💥 SIGKILL node w2');
          children.get('w2')?.kill('SIGKILL');
        }
      }
    });

    const correct = sameCounts(result.totals, expected);
    const words = Object.values(expected).reduce((a, b) => a + b, 0);
    process.stdout.write('\n');
    say('summary');
    process.stdout.write(`        chunks counted      ${String(CHUNKS)}/${String(CHUNKS)}, none lost (${String(result.requeued)} put back after the kill and counted once)\n`);
    process.stdout.write(`        result              ${correct ? `correct: ${String(words)} words, ${String(Object.keys(expected).length)} distinct, same as a local count` : 'WRONG: differs from the local count'}\n`);
    process.stdout.write(`        node lost           w2 (SIGKILL); ${String(result.info.respawns)} workers respawned on ${Object.keys(result.info.workersPerNode).join(', ')}\n`);
    process.stdout.write(`        recovery            ${times.recoveredAt !== null && times.killedAt !== null ? `${String(Math.round(times.recoveredAt - times.killedAt))} ms from the kill to all ${String(WORKERS)} workers running` : 'not observed'}\n`);
    process.stdout.write(`        wall time           ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    return correct ? 0 : 1;
  } finally {
    // The demo is over: its own teardown is not news.
    offNodeEvents();
    for (const child of children.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await control.stop();
  }
}

const timer = setTimeout(() => {
  process.stderr.write(`demo: not finished within ${String(DEADLINE_MS / 1000)} s\n`);
  process.exit(1);
}, DEADLINE_MS + 4_000);
main().then(
  (code) => {
    clearTimeout(timer);
    process.exit(code);
  },
  (err: unknown) => {
    clearTimeout(timer);
    process.stderr.write(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
