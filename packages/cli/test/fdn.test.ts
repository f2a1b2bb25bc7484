// The `fdn` command against a real three-node cluster: each node an OS process started by
// `fdn start` (a config file, the test application, SIGTERM), and every `fdn` invocation an OS
// process of its own attaching as a hidden node over WebSockets on 127.0.0.1.

import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FdnCluster } from './support/fdn-cluster.ts';

const cluster = new FdnCluster();
const fdn = (args: string[], env: Record<string, string> = {}): ReturnType<FdnCluster['fdn']> => cluster.fdn(args, env);

async function json<T>(args: string[]): Promise<T> {
  const run = await fdn([...args, '--json']);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as T;
}

beforeAll(() => cluster.start(3), 120_000);
afterAll(() => {
  cluster.stop();
});

describe('fdn, attached to a three-node cluster', () => {
  it('nodes: one row per node, the contact marked, as a table and as JSON', async () => {
    const run = await fdn(['nodes']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NODE\s+TOPOLOGY\s+EPOCH\s+PEERS\s+PROCESSES\s+RUNQ\s+RSS\s+UPTIME/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['n1', 'n2', 'n3']);
    expect(lines[1]).toMatch(/^n1 \*\s+fullMesh\s+0\s+2\s/);
    const answers = await json<{ node: string; value: { name: string; nodes: string[] } }[]>(['nodes']);
    expect(answers.map((a) => [a.value.name, a.value.nodes])).toEqual([
      ['n1', ['n2', 'n3']],
      ['n2', ['n1', 'n3']],
      ['n3', ['n1', 'n2']],
    ]);
  });

  it('ps: the longest mailboxes of all nodes first; one node, by reductions', async () => {
    const run = await fdn(['ps', '--top', '3']);
    expect(run.code, run.stderr).toBe(0);
    const rows = run.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^PID\s+NAME\s+BEHAVIOUR\s+STATUS\s+MAILBOX\s+MEMORY\s+REDUCTIONS\s+LINKS$/);
    expect(rows.slice(1, 4).map((r) => r.split(/\s+/).slice(1, 5))).toEqual([
      ['inbox', '-', 'waiting', '40'],
      ['inbox', '-', 'waiting', '40'],
      ['inbox', '-', 'waiting', '40'],
    ]);
    expect(rows[4]).toMatch(/^3 of \d+ processes on 3 node\(s\)$/);
    const one = await json<{ processes: { pid: string; reductions: number }[] }>(['ps', '--node', 'n2', '--sort', 'reductions', '--top', '50']);
    expect(one.processes.length).toBeGreaterThan(4);
    expect(one.processes.every((p) => p.pid.startsWith('<n2.'))).toBe(true);
    const reductions = one.processes.map((p) => p.reductions);
    expect(reductions).toEqual([...reductions].sort((a, b) => b - a));
  });

  it('info: a process by name (found on whichever node) and by pid, with its state', async () => {
    const byName = await json<{ pid: string; registeredName: string; behaviour: string; state: string; links: string[] }>(['info', 'cache', '--node', 'n3']);
    expect(byName).toMatchObject({ registeredName: 'cache', behaviour: 'GenServer', state: '{"jobs":0}' });
    expect(byName.pid).toMatch(/^<n3\.\d+\.\d+>$/);
    const run = await fdn(['info', byName.pid]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^pid\s+<n3\./m);
    expect(run.stdout).toMatch(/^state\s+\{"jobs":0\}$/m);
    expect(run.stdout).toMatch(/^links\s+<n3\.\d+\.\d+>$/m);
    // Its last message: the state request of the `info` before (a call from n3's inspector carrying a system request).
    expect(run.stdout).toMatch(/^last message CallRequest \{ from: From\(<n3\.\d+\.\d+>/m);
  });

  it('tree and kill: the supervision tree drawn; a killed child comes back under its id with a new pid', async () => {
    const run = await fdn(['tree', '--node', 'n2']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^n2\n {2}app_sup <n2\.\d+\.\d+> \[supervisor\]\n {2}├─ cache <n2\.\d+\.\d+> 'cache'\n {2}└─ jobs <n2\.\d+\.\d+>$/m);
    const cache = /├─ cache (<n2\.\d+\.\d+>)/.exec(run.stdout)?.[1] as string;
    const killed = await fdn(['kill', cache]);
    expect(killed.code, killed.stderr).toBe(0);
    expect(killed.stdout.trim()).toBe(`sent exit(kill) to ${cache}`);
    const after = await fdn(['tree', '--node', 'n2']);
    const now = /├─ cache (<n2\.\d+\.\d+>)/.exec(after.stdout)?.[1];
    expect(now).toBeDefined();
    expect(now).not.toBe(cache);
  });

  it('channels, ecosystems and topology', async () => {
    const channels = await fdn(['channels']);
    expect(channels.code, channels.stderr).toBe(0);
    expect(channels.stdout).toMatch(/^NODE\s+PEER\s+CHANNEL\s+MSGS OUT\s+MSGS IN\s+BYTES OUT\s+BYTES IN\s+QUEUED\s+DROPPED\s+LATENCY\s+RTT$/m);
    expect(channels.stdout).toMatch(/^n1\s+n2\s+default\s+\d+/m);
    expect(channels.stdout).not.toMatch(/fdn-[0-9a-f]{8}/);
    const ecosystems = await fdn(['ecosystems']);
    expect(ecosystems.code, ecosystems.stderr).toBe(0);
    expect(ecosystems.stdout).toMatch(/^shop\s+<n1\.\d+\.\d+> on n1\s+n1\s+\S*n\d:\d/m);
    const info = await json<{ ecosystems: { name: string; workersPerNode: Record<string, number> }[] }>(['ecosystems']);
    expect(Object.values(info.ecosystems[0]?.workersPerNode ?? {}).reduce((a, b) => a + b, 0)).toBe(2);
    const topology = await fdn(['topology']);
    expect(topology.stdout).toMatch(/^topology\s+fullMesh \(epoch 0, stable\)$/m);
    expect(topology.stdout).toMatch(/^members\s+3: n1 n2 n3$/m);
  });

  it('topology switch: every node switches, the attached fdn stays hidden; switching again says why not', async () => {
    const run = await fdn(['topology', 'switch', 'hyparview']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^switched from fullMesh to hyparview in \d/);
    const answers = await json<{ value: { name: string; topology: string; epoch: number; nodes: string[] } }[]>(['nodes']);
    expect(answers.map((a) => [a.value.name, a.value.topology, a.value.epoch, a.value.nodes.length])).toEqual([
      ['n1', 'hyparview', 1, 2],
      ['n2', 'hyparview', 1, 2],
      ['n3', 'hyparview', 1, 2],
    ]);
    const again = await fdn(['topology', 'switch', 'hyparview']);
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/already_current/);
  });

  it('says what is wrong, with exit codes: 2 usage, 3 cannot attach, 1 the cluster said no', async () => {
    const unknown = await fdn(['frobnicate']);
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining("unknown command 'frobnicate'")]);
    const sort = await fdn(['ps', '--sort', 'age']);
    expect([sort.code, sort.stderr]).toEqual([2, expect.stringContaining('Allowed choices are mailbox, memory, reductions')]);
    const notPid = await fdn(['kill', 'cache']);
    expect([notPid.code, notPid.stderr]).toEqual([2, expect.stringContaining('FDN_ERR_USAGE')]);
    const noSecret = await fdn(['nodes'], { FDN_SECRET: '' });
    expect([noSecret.code, noSecret.stderr]).toEqual([3, expect.stringContaining('FDN_ERR_ATTACH: no cluster secret')]);
    const wrong = await fdn(['nodes', '--timeout', '2000'], { FDN_SECRET: 'not-the-cluster-secret' });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/FDN_ERR_ATTACH: cannot attach to ws:\/\/127\.0\.0\.1:\d+: .*wrong cluster secret/);
    const noNode = await fdn(['ps', '--node', 'zed']);
    expect([noNode.code, noNode.stdout]).toEqual([1, expect.stringContaining("n1 is not connected to 'zed'")]);
    const help = await fdn(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['start', 'nodes', 'ps', 'info', 'tree', 'kill', 'topology', 'channels', 'ecosystems']) expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
  });

  it('SIGTERM stops a node started by fdn start in order: it exits 0 and leaves the cluster', async () => {
    const n3 = cluster.running.get('n3') as ChildProcess;
    const exited = new Promise<number | null>((resolve) => n3.once('exit', (code) => { resolve(code); }));
    n3.kill('SIGTERM');
    expect(await exited).toBe(0);
    cluster.running.delete('n3');
    const answers = await json<{ value: { name: string } }[]>(['nodes']);
    expect(answers.map((a) => a.value.name)).toEqual(['n1', 'n2']);
  });
});
