// The operations endpoint on real nodes (WebSockets and HTTP on 127.0.0.1, in this process):
// /metrics in Prometheus's text format with the node's figures read at scrape time, /health and
// /ready as Kubernetes probes use them, a token where one is set, and clear errors.

import { request } from 'node:http';
import { memoryLogger } from '@fdn/core';
import { GenServer } from '@fdn/actors';
import type { GenServerBehaviour, Pid } from '@fdn/actors';
import { ecosystemInfo, spawnEcosystem, startNode } from '@fdn/distribution';
import type { Node } from '@fdn/distribution';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { CliErrorCode, gaugeOnScrape, perScrape, serveOperations, TOP_MAILBOXES } from '../src/index.ts';
import type { Operations } from '../src/index.ts';

const SECRET = 'operations-test-secret';
const nodes: Node[] = [];
const served: Operations[] = [];

afterEach(async () => {
  for (const o of served.splice(0)) await o.close();
  await Promise.all(nodes.splice(0).map((n) => n.stop({ timeoutMs: 1_000 })));
});

async function node(name: string, seeds: string[] = []): Promise<Node> {
  const n = await startNode({ name, secret: SECRET, seeds, logger: memoryLogger() });
  nodes.push(n);
  return n;
}

async function serve(n: Node, options: Parameters<typeof serveOperations>[1] = {}): Promise<Operations> {
  const o = await serveOperations(n, { port: 0, ...options });
  served.push(o);
  return o;
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The samples of one metric in a Prometheus text exposition: labels → value. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (m?.[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const pair of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] as string] = pair[2] as string;
    out.push({ labels, value: Number(m[4]) });
  }
  return out;
}

const value = (text: string, name: string, labels: Record<string, string> = {}): number | undefined =>
  samples(text, name).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

describe('/metrics', () => {
  it("serves the node's processes, mailboxes, channels, overlay and Node.js figures, read when scraped", async () => {
    const a = await node('a');
    const b = await node('b', [a.addresses[0] as string]);
    await until('connected', () => a.nodes().length === 1 && b.nodes().length === 1);
    const ops = await serve(a);
    // A process that never reads: its mailbox grows and tops the list.
    const sink = a.runtime.spawn(async (ctx) => {
      await ctx.receive(() => false, 60_000).catch(() => undefined);
    });
    a.runtime.spawn(async (ctx) => {
      ctx.register('sink-holder');
      for (let i = 0; i < 25; i++) ctx.send(sink, { i });
      await ctx.receive(() => false, 60_000).catch(() => undefined);
    });
    // Traffic to b: 40 messages on the default channel.
    const echo = b.runtime.spawn(async (ctx) => {
      for (;;) await ctx.receive();
    });
    for (let i = 0; i < 40; i++) a.send(echo, { i });
    await until('b got them', () => (b.runtime.processInfo(echo)?.messageQueueLen ?? 0) + 0 >= 0 && b.getChannelMetrics('default').messagesIn >= 40);
    const res = await fetch(`${ops.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('# HELP fdn_processes ');
    expect(text).toContain('# TYPE fdn_channel_messages_sent_total counter');
    const processes = samples(text, 'fdn_processes').reduce((s, x) => s + x.value, 0);
    expect(processes).toBe(a.runtime.processCount);
    expect(samples(text, 'fdn_processes').every((s) => s.labels.node === 'a')).toBe(true);
    expect(value(text, 'fdn_mailbox_messages')).toBeGreaterThanOrEqual(25);
    const top = samples(text, 'fdn_mailbox_top_messages');
    expect(top.length).toBeLessThanOrEqual(TOP_MAILBOXES);
    expect(top[0]).toMatchObject({ labels: { pid: sink.toString() }, value: 25 });
    expect(value(text, 'fdn_channel_messages_sent_total', { channel: 'default', peer: 'b' })).toBeGreaterThanOrEqual(40);
    expect(value(text, 'fdn_channel_sent_bytes_total', { channel: 'default', peer: 'b' })).toBeGreaterThan(40 * 8);
    expect(value(text, 'fdn_channel_queued_messages', { channel: 'default', peer: 'b' })).toBe(0);
    expect(value(text, 'fdn_cluster_nodes')).toBe(1);
    expect(value(text, 'fdn_overlay_members')).toBe(2);
    expect(value(text, 'fdn_topology_epoch', { topology: a.topology })).toBe(0);
    expect(value(text, 'fdn_frames_dropped_total')).toBe(0);
    const reductions = value(text, 'fdn_reductions_total') ?? 0;
    expect(reductions).toBeGreaterThan(0);
    expect(reductions).toBeLessThanOrEqual(a.runtime.reductions);
    expect(value(text, 'fdn_run_queue_length')).toBeGreaterThanOrEqual(0);
    const elu = value(text, 'fdn_event_loop_utilization') ?? -1;
    expect(elu).toBeGreaterThan(0);
    expect(elu).toBeLessThanOrEqual(1);
    // prom-client's Node.js figures: event-loop delay, GC, heap.
    expect(text).toContain('nodejs_eventloop_lag_p99_seconds');
    expect(text).toContain('nodejs_heap_size_used_bytes');
    // The default set times no garbage collection (that is `processMetrics: 'full'`).
    expect(text).not.toContain('nodejs_gc_duration_seconds');
    // Read when scraped: more traffic shows at the next scrape.
    for (let i = 0; i < 10; i++) a.send(echo, { i });
    await until('b got ten more', () => b.getChannelMetrics('default').messagesIn >= 50);
    const again = await (await fetch(`${ops.url}/metrics`)).text();
    expect(value(again, 'fdn_channel_messages_sent_total', { channel: 'default', peer: 'b' })).toBeGreaterThanOrEqual(50);
    // Work done on a between the scrapes shows as reductions.
    const worker = a.runtime.spawn(async (ctx) => {
      for (let i = 0; i < 5; i++) await ctx.receive();
    });
    for (let i = 0; i < 5; i++) a.runtime.send(worker, i);
    await until('the worker handled its five messages', () => !a.runtime.isAlive(worker));
    const later = await (await fetch(`${ops.url}/metrics`)).text();
    expect(value(later, 'fdn_reductions_total')).toBeGreaterThanOrEqual(reductions + 5);
  });

  it('round-trip time per peer once pings have flowed; at-least-once figures per channel', async () => {
    const a = await startNode({ name: 'a', secret: SECRET, heartbeatMs: 100, logger: memoryLogger(), channels: { reliable: { reliability: 'at_least_once' } } });
    nodes.push(a);
    const b = await startNode({ name: 'b', secret: SECRET, heartbeatMs: 100, seeds: [a.addresses[0] as string], logger: memoryLogger(), channels: { reliable: { reliability: 'at_least_once' } } });
    nodes.push(b);
    await until('connected', () => a.nodes().length === 1);
    const ops = await serve(a, { processMetrics: false });
    await until('an rtt', () => a.transport.connection('b')?.rttMs !== undefined);
    const text = await (await fetch(`${ops.url}/metrics`)).text();
    const rtt = value(text, 'fdn_connection_rtt_seconds', { peer: 'b' });
    expect(rtt).toBeGreaterThan(0);
    expect(rtt).toBeLessThan(1);
    expect(value(text, 'fdn_reliable_unacknowledged_messages', { channel: 'reliable' })).toBe(0);
    expect(text).not.toContain('nodejs_eventloop_lag_p99_seconds');
  });

  it('φ per peer, the send-wait histogram, the passive view, Plumtree and ecosystem figures', async () => {
    const a = await startNode({ name: 'a', secret: SECRET, overlay: 'hyparview', heartbeatMs: 100, logger: memoryLogger() });
    nodes.push(a);
    const b = await startNode({ name: 'b', secret: SECRET, overlay: 'hyparview', heartbeatMs: 100, seeds: [a.addresses[0] as string], logger: memoryLogger() });
    nodes.push(b);
    await until('a and b are connected', () => a.nodes().includes('b'));
    const worker: GenServerBehaviour<null, undefined, never, never, 'crash'> = {
      init: () => ({ type: 'ok', state: null }),
      handleCast: () => {
        throw new Error('asked to crash');
      },
    };
    for (const n of [a, b]) n.factory.register('worker', worker);
    const ops = await serve(a, { processMetrics: false });
    for (let i = 0; i < 50; i++) a.send({ name: 'nobody', node: 'b' }, i);
    a.broadcast('nobody', 'hello');
    const eco = await spawnEcosystem(a, { name: 'shop', coordinator: { init: () => ({ type: 'ok', state: null }) }, workers: { behaviour: 'worker', count: 2 } });
    const info = await ecosystemInfo(a, eco);
    GenServer.cast(a.runtime, info.slots[0]?.worker as Pid, 'crash');
    await until('the restart is known', async () => (await ecosystemInfo(a, eco)).restarts === 1);
    let text = '';
    await until('φ is known for b', async () => {
      text = await (await fetch(`${ops.url}/metrics`)).text();
      return value(text, 'fdn_connection_phi', { peer: 'b' }) !== undefined;
    });
    expect(value(text, 'fdn_connection_phi', { peer: 'b' })).toBeLessThan(8);
    const buckets = samples(text, 'fdn_channel_send_wait_seconds_bucket').filter((s) => s.labels.channel === 'default' && s.labels.peer === 'b');
    expect(buckets.map((s) => s.labels.le)).toEqual(['0.0001', '0.00025', '0.0005', '0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '1', '+Inf']);
    const counts = buckets.map((s) => s.value);
    expect(counts).toEqual([...counts].sort((x, y) => x - y));
    expect(counts.at(-1)).toBeGreaterThan(0);
    expect(value(text, 'fdn_channel_send_wait_seconds_count', { channel: 'default', peer: 'b' })).toBe(counts.at(-1));
    expect(value(text, 'fdn_overlay_passive_view', { overlay: 'hyparview' })).toBeGreaterThanOrEqual(0);
    expect(value(text, 'fdn_plumtree_broadcasts_total')).toBe(1);
    expect(value(text, 'fdn_plumtree_eager_peers')).toBe(1);
    expect(value(text, 'fdn_ecosystem_workers', { ecosystem: 'shop', worker_node: 'a' }) ?? 0).toBe(info.workersPerNode.a ?? 0);
    expect(samples(text, 'fdn_ecosystem_workers').reduce((n, s) => n + s.value, 0)).toBe(2);
    expect(value(text, 'fdn_ecosystem_restarts_total', { ecosystem: 'shop' })).toBe(1);
    expect(value(text, 'fdn_ecosystem_slots_hosted')).toBe(info.workersPerNode.a ?? 0);
  });

  it("serves the user's own metrics from the registry they pass", async () => {
    const a = await node('a');
    const registry = new Registry();
    const jobs = new Counter({ name: 'app_jobs_done_total', help: 'Jobs done.', registers: [registry] });
    jobs.inc(3);
    const ops = await serve(a, { registry, processMetrics: false });
    expect(ops.registry).toBe(registry);
    const text = await (await fetch(`${ops.url}/metrics`)).text();
    expect(value(text, 'app_jobs_done_total')).toBe(3);
    expect(value(text, 'fdn_cluster_nodes')).toBe(0);
  });
});

describe('/health and /ready', () => {
  it('health is 200 while the node runs; ready once joined, not while it cannot join, not while leaving', async () => {
    const a = await node('a');
    const opsA = await serve(a, { processMetrics: false });
    expect((await fetch(`${opsA.url}/health`)).status).toBe(200);
    // No seeds: a cluster of its own, ready at once.
    expect(await (await fetch(`${opsA.url}/ready`)).json()).toMatchObject({ status: 'ready', node: 'a' });
    // Seeds nobody answers: not ready, and the answer says why.
    const lonely = await node('lonely', ['ws://127.0.0.1:9']);
    const opsL = await serve(lonely, { processMetrics: false });
    const notReady = await fetch(`${opsL.url}/ready`);
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as { reasons: string[] }).reasons.join(' ')).toContain('not joined');
    // Joined: ready.
    const b = await node('b', [a.addresses[0] as string]);
    const opsB = await serve(b, { processMetrics: false });
    await until('b ready', async () => (await fetch(`${opsB.url}/ready`)).status === 200);
    // An extra check (discovery not done, say) holds readiness back.
    let discovered = false;
    const opsC = await serve(b, { processMetrics: false, readiness: [() => (discovered ? null : 'discovery has not answered yet')] });
    expect(await (await fetch(`${opsC.url}/ready`)).json()).toMatchObject({ status: 'not ready', reasons: ['discovery has not answered yet'] });
    discovered = true;
    expect((await fetch(`${opsC.url}/ready`)).status).toBe(200);
    // Stopping (draining, then stopped): not ready, then not healthy.
    const stopping = b.stop({ timeoutMs: 1_000 });
    expect((await fetch(`${opsB.url}/ready`)).status).toBe(503);
    await stopping;
    expect((await fetch(`${opsB.url}/health`)).status).toBe(503);
  });
});

describe('the listener', () => {
  it('a token, when set, is required as a bearer token, except by the probes', async () => {
    const a = await node('a');
    const ops = await serve(a, { token: 'a-token-of-enough-length', processMetrics: false });
    expect((await fetch(`${ops.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${ops.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-of-same-size!' } })).status).toBe(401);
    expect((await fetch(`${ops.url}/metrics`, { headers: { authorization: 'Bearer a-token-of-enough-length' } })).status).toBe(200);
    // The probes stay open: a kubelet cannot send a secret header.
    expect((await fetch(`${ops.url}/health`)).status).toBe(200);
    expect((await fetch(`${ops.url}/ready`)).status).toBe(200);
    expect((await fetch(`${ops.url}/nope`)).status).toBe(401);
  });

  it('refuses to listen beyond loopback without a token, a short token, a bad port, a taken port; unknown paths list the known ones', async () => {
    const a = await node('a');
    await expect(serveOperations(a, { host: '0.0.0.0', port: 0 })).rejects.toMatchObject({ code: CliErrorCode.BAD_CONFIG, message: expect.stringContaining('requires a token') as unknown });
    await expect(serveOperations(a, { port: 0, token: 'short' })).rejects.toMatchObject({ code: CliErrorCode.BAD_CONFIG });
    await expect(serveOperations(a, { port: 70_000 })).rejects.toMatchObject({ code: CliErrorCode.BAD_CONFIG });
    const ops = await serve(a, { processMetrics: false });
    const port = Number(new URL(ops.url).port);
    await expect(serveOperations(a, { port, registry: new Registry(), processMetrics: false })).rejects.toMatchObject({ code: CliErrorCode.LISTEN_FAILED, message: expect.stringContaining('the port is taken') as unknown });
    const missing = await fetch(`${ops.url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('/metrics, /health, /ready');
    expect((await fetch(`${ops.url}/metrics`, { method: 'POST' })).status).toBe(405);
  });
});

/** A GET with a Host header of our choosing (fetch keeps the URL's). */
function getWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

describe('the observer routes', () => {
  it('are off unless asked for; the page, its events, a process, and posts that only a same-origin page can make', async () => {
    const a = await node('a');
    const off = await serve(a, { processMetrics: false });
    expect((await fetch(`${off.url}/observer`)).status).toBe(404);
    const ops = await serve(a, { processMetrics: false, observer: { intervalMs: 50 } });
    const page = await fetch(`${ops.url}/observer`);
    expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    expect(await page.text()).toContain('<script type="module" src="/observer/app.js">');
    expect((await fetch(`${ops.url}/observer/app.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    // The stream: a cluster section first, then ticks.
    const events = await fetch(`${ops.url}/observer/events`);
    expect(events.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = (events.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('event: tick')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(text).toMatch(/event: cluster\ndata: \{"contact":"a","nodes":\[\{"name":"a","up":true/);
    const inspector = a.runtime.whereis('fdn_inspector');
    const detail = (await (await fetch(`${ops.url}/observer/process?pid=${encodeURIComponent(String(inspector))}`)).json()) as { ok: boolean; info: { registeredName: string } };
    expect(detail).toMatchObject({ ok: true, info: { registeredName: 'fdn_inspector' } });
    // A post from another origin cannot carry these headers without a preflight, which is never granted.
    const victim = a.runtime.spawn((ctx) => ctx.receive());
    const bare = await fetch(`${ops.url}/observer/kill`, { method: 'POST', body: JSON.stringify({ pid: String(victim) }) });
    expect([bare.status, await bare.text()]).toEqual([400, 'a POST needs content-type: application/json and x-fdn-request: 1\n']);
    expect(a.runtime.isAlive(victim)).toBe(true);
    const killed = await fetch(`${ops.url}/observer/kill`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-fdn-request': '1' }, body: JSON.stringify({ pid: String(victim) }) });
    expect(killed.status).toBe(200);
    expect(a.runtime.isAlive(victim)).toBe(false);
    expect((await fetch(`${ops.url}/observer`, { method: 'POST' })).status).toBe(405);
    // Without a token, only loopback names: a rebinding name pointed at 127.0.0.1 is refused.
    expect(await getWithHost(`${ops.url}/observer`, 'evil.example:80')).toBe(403);
    expect(await getWithHost(`${ops.url}/observer`, `localhost:${new URL(ops.url).port}`)).toBe(200);
  });

  it("with a token: opening the page with ?token= once sets a cookie that the page's requests carry", async () => {
    const a = await node('a');
    const ops = await serve(a, { processMetrics: false, observer: true, token: 'a-token-of-enough-length' });
    expect((await fetch(`${ops.url}/observer`)).status).toBe(401);
    expect((await fetch(`${ops.url}/observer?token=wrong-token-of-same-size`)).status).toBe(401);
    const opened = await fetch(`${ops.url}/observer?token=a-token-of-enough-length`);
    expect(opened.status).toBe(200);
    const cookie = opened.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^fdn_token=a-token-of-enough-length; HttpOnly; SameSite=Strict; Path=\//);
    expect((await fetch(`${ops.url}/observer/app.js`, { headers: { cookie: cookie.split(';')[0] as string } })).status).toBe(200);
    expect((await fetch(`${ops.url}/metrics`, { headers: { cookie: 'fdn_token=nope' } })).status).toBe(401);
  });
});

describe('the README', () => {
  it('lists only metrics a node serves', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const listed = [...new Set([...readme.matchAll(/`(fdn_[a-z_]+)`/g)].map((m) => m[1] as string))];
    expect(listed.length).toBeGreaterThan(20);
    const a = await node('a');
    const ops = await serve(a);
    const text = await (await fetch(`${ops.url}/metrics`)).text();
    const served = new Set([...text.matchAll(/^# HELP (\S+) /gm)].map((m) => m[1]));
    expect(listed.filter((name) => !served.has(name))).toEqual([]);
    for (const name of ['nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes', 'process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_version_info']) expect(served.has(name), name).toBe(true);
    // prom-client's whole set, GC durations included, on request.
    const full = await serve(a, { processMetrics: 'full', registry: new Registry() });
    const fullText = await (await fetch(`${full.url}/metrics`)).text();
    for (const name of ['nodejs_gc_duration_seconds', 'nodejs_eventloop_lag_seconds', 'nodejs_active_handles']) expect(fullText, name).toContain(`# HELP ${name} `);
  });
});

describe('perScrape', () => {
  it('takes one snapshot for all collectors of a scrape, and a fresh one for the next scrape', async () => {
    let taken = 0;
    const snapshot = perScrape(() => ++taken);
    const registry = new Registry();
    for (const name of ['a_first', 'a_second', 'a_third']) gaugeOnScrape(registry, name, name, [], (set) => {
      set({}, snapshot());
    });
    const first = await registry.metrics();
    expect(taken).toBe(1);
    expect(first).toContain('a_third 1');
    const second = await registry.metrics();
    expect(taken).toBe(2);
    expect(second).toContain('a_first 2');
  });
});
