// OpenTelemetry across real nodes (WebSockets on 127.0.0.1, in this process), with the SDK's
// in-memory exporter registered as the application would: one request crossing three nodes is one
// trace with correctly parented spans; the server spans show the mailbox wait; nothing is traced
// without an active span; the SDK's sampler decides, on every node; remote spawn, an ecosystem's
// placement and a topology switch make spans too.

import { GenServer } from '@fdn/actors';
import type { GenServerBehaviour } from '@fdn/actors';
import { memoryLogger } from '@fdn/core';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import type { Attributes, Context, Link } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AlwaysOnSampler, BasicTracerProvider, InMemorySpanExporter, ParentBasedSampler, SamplingDecision, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, Sampler, SamplingResult } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnEcosystem, startNode } from '../../src/index.ts';
import type { Node } from '../../src/index.ts';
import { stoppedAfterEach, until } from '../helpers.ts';

const SECRET = 'tracing-test-secret';
const started = stoppedAfterEach();
const exporter = new InMemorySpanExporter();

/** Registers a provider with `sampler` as the application's, replacing the one before. */
function register(sampler: Sampler = new AlwaysOnSampler()): void {
  trace.disable();
  trace.setGlobalTracerProvider(new BasicTracerProvider({ sampler, spanProcessors: [new SimpleSpanProcessor(exporter)] }));
}

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  register();
});

afterAll(() => {
  trace.disable();
  context.disable();
  propagation.disable();
});

afterEach(() => {
  exporter.reset();
  register();
});

async function cluster(): Promise<[Node, Node, Node]> {
  const a = await startNode({ name: 'a', secret: SECRET, logger: memoryLogger() });
  started.push(a);
  const b = await startNode({ name: 'b', secret: SECRET, logger: memoryLogger(), seeds: [a.addresses[0] as string] });
  started.push(b);
  const c = await startNode({ name: 'c', secret: SECRET, logger: memoryLogger(), seeds: [a.addresses[0] as string] });
  started.push(c);
  await until(() => [a, b, c].every((n) => n.nodes().length === 2), 'the three nodes see each other');
  return [a, b, c];
}

/** b's `front` asks c's `back`, which answers after a while. */
async function services(b: Node, c: Node): Promise<void> {
  const back: GenServerBehaviour<null, undefined, string, string> = {
    init: () => ({ type: 'ok', state: null }),
    handleCall: async (req) => {
      await new Promise((r) => setTimeout(r, 20));
      return { type: 'reply', reply: `back:${req}`, state: null };
    },
  };
  const front: GenServerBehaviour<null, undefined, string, string> = {
    init: () => ({ type: 'ok', state: null }),
    handleCall: async (req, _from, state, ctx) => ({ type: 'reply', reply: await GenServer.call<string>(ctx, { name: 'back', node: 'c' }, req), state }),
  };
  await GenServer.start(c.runtime, back, undefined, { name: 'back' });
  await GenServer.start(b.runtime, front, undefined, { name: 'front' });
}

const tracer = (): ReturnType<typeof trace.getTracer> => trace.getTracer('the application');

/** What a span says about itself, for comparing trees. */
function shape(span: ReadableSpan, all: ReadableSpan[]): { name: string; kind: SpanKind; node: unknown; parent: string | null } {
  const parentId = span.parentSpanContext?.spanId;
  const parent = all.find((s) => s.spanContext().spanId === parentId);
  return { name: span.name, kind: span.kind, node: span.attributes['fdn.node'] ?? null, parent: parent === undefined ? null : `${parent.name}@${String(parent.attributes['fdn.node'] ?? parent.attributes['fdn.server'] ?? '')}` };
}

describe('traces across nodes', () => {
  it('one request through three nodes is one trace, each span parented on the one that caused it', async () => {
    const [a, b, c] = await cluster();
    await services(b, c);
    const reply = await tracer().startActiveSpan('request', async (root) => {
      try {
        return await GenServer.call<string>(a.runtime, { name: 'front', node: 'b' }, 'hello');
      } finally {
        root.end();
      }
    });
    expect(reply).toBe('back:hello');
    await until(() => exporter.getFinishedSpans().length >= 5, 'five spans ended');
    const spans = exporter.getFinishedSpans();
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);
    const client = (server: string): ReadableSpan => spans.find((s) => s.name === 'GenServer.call' && s.attributes['fdn.server'] === server) as ReadableSpan;
    const handler = (node: string): ReadableSpan => spans.find((s) => s.name === 'GenServer.handleCall' && s.attributes['fdn.node'] === node) as ReadableSpan;
    const root = spans.find((s) => s.name === 'request') as ReadableSpan;
    expect(root.parentSpanContext).toBeUndefined();
    expect(client('front@b').parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(handler('b').parentSpanContext?.spanId).toBe(client('front@b').spanContext().spanId);
    expect(client('back@c').parentSpanContext?.spanId).toBe(handler('b').spanContext().spanId);
    expect(handler('c').parentSpanContext?.spanId).toBe(client('back@c').spanContext().spanId);
    expect([client('front@b').kind, handler('b').kind, client('back@c').kind, handler('c').kind]).toEqual([SpanKind.CLIENT, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.SERVER]);
    expect(spans.map((s) => shape(s, spans)).filter((s) => s.name === 'GenServer.handleCall')).toEqual([
      { name: 'GenServer.handleCall', kind: SpanKind.SERVER, node: 'c', parent: 'GenServer.call@back@c' },
      { name: 'GenServer.handleCall', kind: SpanKind.SERVER, node: 'b', parent: 'GenServer.call@front@b' },
    ]);
    // The server's span starts when the request arrived and marks when handling started: the mailbox wait.
    for (const node of ['b', 'c']) {
      const span = handler(node);
      expect(span.events.map((e) => e.name)).toEqual(['fdn.handling_started']);
      expect(span.attributes['fdn.mailbox_wait_ms']).toBeGreaterThanOrEqual(0);
      expect(span.attributes['fdn.name']).toBe(node === 'b' ? 'front' : 'back');
    }
    // The innermost call waited for c's 20 ms; the span tree nests in time.
    const ms = (s: ReadableSpan): number => s.duration[0] * 1_000 + s.duration[1] / 1e6;
    expect(ms(handler('c'))).toBeGreaterThanOrEqual(19);
    expect(ms(client('front@b'))).toBeGreaterThanOrEqual(ms(handler('c')));
  });

  it('a server waiting on its mailbox shows the wait; a cast is a producer and a consumer span', async () => {
    const [a, b] = await cluster();
    const slow: GenServerBehaviour<null, undefined, string, string, string> = {
      init: () => ({ type: 'ok', state: null }),
      handleCall: async (req) => {
        await new Promise((r) => setTimeout(r, 30));
        return { type: 'reply', reply: req, state: null };
      },
      handleCast: (_msg, state) => ({ type: 'noreply', state }),
    };
    await GenServer.start(b.runtime, slow, undefined, { name: 'slow' });
    await tracer().startActiveSpan('two at once', async (root) => {
      await Promise.all([GenServer.call(a.runtime, { name: 'slow', node: 'b' }, 'first'), GenServer.call(a.runtime, { name: 'slow', node: 'b' }, 'second')]);
      GenServer.cast(a.runtime, { name: 'slow', node: 'b' }, 'note');
      root.end();
    });
    await until(() => exporter.getFinishedSpans().filter((s) => s.name === 'GenServer.handleCast').length === 1, 'the cast was handled');
    const waits = exporter
      .getFinishedSpans()
      .filter((s) => s.name === 'GenServer.handleCall')
      .map((s) => s.attributes['fdn.mailbox_wait_ms'] as number)
      .sort((x, y) => x - y);
    // The second request waited in the mailbox while the first was handled (30 ms).
    expect(waits[1]).toBeGreaterThanOrEqual(25);
    const producer = exporter.getFinishedSpans().find((s) => s.name === 'GenServer.cast');
    const consumer = exporter.getFinishedSpans().find((s) => s.name === 'GenServer.handleCast');
    expect([producer?.kind, consumer?.kind]).toEqual([SpanKind.PRODUCER, SpanKind.CONSUMER]);
    expect(consumer?.parentSpanContext?.spanId).toBe(producer?.spanContext().spanId);
  });

  it('a plain send under a span: fdn.send, then fdn.receive where it is taken (mailbox wait); the receiver sees the message itself', async () => {
    const [a, b, c] = await cluster();
    await services(b, c);
    // A function process on b takes only `{ kind: 'job' }` (selective receive), after a while.
    const got: unknown[] = [];
    const picky = b.runtime.spawn(async (ctx) => {
      await new Promise((r) => setTimeout(r, 30));
      got.push(await ctx.receive((m) => (m as { kind?: string }).kind === 'job'));
      got.push(await ctx.receive());
    });
    // A GenServer on b whose handleInfo calls c: the call is a child of the message's receive span.
    const relay: GenServerBehaviour<null> = {
      init: () => ({ type: 'ok', state: null }),
      handleInfo: async (msg, state, ctx) => {
        got.push(await GenServer.call(ctx, { name: 'back', node: 'c' }, String((msg as { n: number }).n)));
        return { type: 'noreply', state };
      },
    };
    await GenServer.start(b.runtime, relay, undefined, { name: 'relay' });
    tracer().startActiveSpan('sending', (root) => {
      a.runtime.send(picky, 'noise');
      a.runtime.send(picky, { kind: 'job', id: 7 });
      a.runtime.send({ name: 'relay', node: 'b' }, { n: 1 });
      root.end();
    });
    await until(() => got.length === 3, 'b got all three');
    expect(got).toEqual(expect.arrayContaining([{ kind: 'job', id: 7 }, 'noise', 'back:1']));
    expect(got).toHaveLength(3);
    await until(() => exporter.getFinishedSpans().filter((s) => s.name === 'fdn.receive').length === 3, 'three receive spans');
    const spans = exporter.getFinishedSpans();
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);
    const sends = spans.filter((s) => s.name === 'fdn.send');
    const receives = spans.filter((s) => s.name === 'fdn.receive');
    expect(sends.map((s) => s.kind)).toEqual([SpanKind.PRODUCER, SpanKind.PRODUCER, SpanKind.PRODUCER]);
    for (const r of receives) {
      expect(r.kind).toBe(SpanKind.CONSUMER);
      expect(sends.map((s) => s.spanContext().spanId)).toContain(r.parentSpanContext?.spanId);
      expect(r.events.map((e) => e.name)).toEqual(['fdn.handling_started']);
    }
    // The picky process waited 30 ms before taking its messages: the wait shows.
    const waits = receives.filter((r) => String(r.attributes['fdn.pid']) === String(picky)).map((r) => r.attributes['fdn.mailbox_wait_ms'] as number);
    expect(waits).toHaveLength(2);
    for (const w of waits) expect(w).toBeGreaterThanOrEqual(20);
    // The relay's call to c is a child of its receive span.
    const relayReceive = receives.find((r) => r.attributes['fdn.to'] === 'relay@b') as ReadableSpan;
    const call = spans.find((s) => s.name === 'GenServer.call' && s.attributes['fdn.server'] === 'back@c');
    expect(call?.parentSpanContext?.spanId).toBe(relayReceive.spanContext().spanId);
  });

  it('nothing is traced without an active span, and a process never inherits the span of whoever woke it', async () => {
    const [a, b, c] = await cluster();
    await services(b, c);
    expect(await GenServer.call(a.runtime, { name: 'front', node: 'b' }, 'untraced')).toBe('back:untraced');
    // A traced send wakes the scheduler from inside a span; an untraced message sent right after,
    // outside it, is handled in the same drain: its handler's call must not join the trace.
    let wake: (() => void) | null = null;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const relay: GenServerBehaviour<null> = {
      init: () => ({ type: 'ok', state: null }),
      handleInfo: async (_msg, state, ctx) => {
        await GenServer.call(ctx, { name: 'front', node: 'b' }, 'from a woken process');
        wake?.();
        return { type: 'noreply', state };
      },
    };
    const sink: GenServerBehaviour<null> = { init: () => ({ type: 'ok', state: null }), handleInfo: (_m, state) => ({ type: 'noreply', state }) };
    const later = await GenServer.start(a.runtime, relay, undefined);
    const quiet = await GenServer.start(a.runtime, sink, undefined);
    tracer().startActiveSpan('traced', (root) => {
      a.runtime.send(quiet, 'traced');
      root.end();
    });
    a.runtime.send(later, 'go');
    await woken;
    await new Promise((r) => setTimeout(r, 100));
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name).sort()).toEqual(['fdn.receive', 'fdn.send', 'traced']);
  });

  it("the SDK's sampler decides on every node: an unsampled request records nothing downstream", async () => {
    // Roots are sampled unless named `unsampled`; everything else follows its parent. A server span
    // that lost its parent would be a sampled root here.
    const roots: Sampler = {
      shouldSample: (_ctx: Context, _traceId: string, name: string, _kind: SpanKind, _attrs: Attributes, _links: Link[]): SamplingResult => ({ decision: name === 'unsampled' ? SamplingDecision.NOT_RECORD : SamplingDecision.RECORD_AND_SAMPLED }),
      toString: () => 'all but unsampled',
    };
    register(new ParentBasedSampler({ root: roots }));
    const [a, b, c] = await cluster();
    await services(b, c);
    await tracer().startActiveSpan('unsampled', async (root) => {
      await GenServer.call(a.runtime, { name: 'front', node: 'b' }, 'quiet');
      root.end();
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(exporter.getFinishedSpans()).toEqual([]);
    await tracer().startActiveSpan('sampled', async (root) => {
      await GenServer.call(a.runtime, { name: 'front', node: 'b' }, 'loud');
      root.end();
    });
    await until(() => exporter.getFinishedSpans().length === 5, 'the sampled request recorded five spans');
  });

  it('remote spawn, an ecosystem placement and a topology switch make spans', async () => {
    const [a, b, c] = await cluster();
    const worker: GenServerBehaviour<null> = { init: () => ({ type: 'ok', state: null }) };
    for (const n of [a, b, c]) n.factory.register('worker', worker);
    await tracer().startActiveSpan('spawning', async (root) => {
      await a.spawn(null, 'b', 'worker');
      root.end();
    });
    await until(() => exporter.getFinishedSpans().some((s) => s.name === 'fdn.spawn.start'), 'the spawn was traced on b');
    const spans = exporter.getFinishedSpans();
    const client = spans.find((s) => s.name === 'fdn.spawn');
    const server = spans.find((s) => s.name === 'fdn.spawn.start');
    expect(client?.attributes).toMatchObject({ 'fdn.behaviour': 'worker', 'fdn.node': 'b' });
    expect(server?.parentSpanContext?.spanId).toBe(client?.spanContext().spanId);
    expect(server?.attributes['fdn.node']).toBe('b');
    exporter.reset();
    await spawnEcosystem(a, { name: 'shop', coordinator: worker, workers: { behaviour: 'worker', count: 2 } });
    await until(() => exporter.getFinishedSpans().filter((s) => s.name === 'fdn.ecosystem.place').length === 2, 'two placements traced');
    const places = exporter.getFinishedSpans().filter((s) => s.name === 'fdn.ecosystem.place');
    expect(places.map((s) => s.attributes['fdn.ecosystem'])).toEqual(['shop', 'shop']);
    // A placement on another node carries its spawn as a child.
    const remote = places.find((s) => s.attributes['fdn.node'] !== 'a');
    if (remote !== undefined) expect(exporter.getFinishedSpans().find((s) => s.name === 'fdn.spawn' && s.parentSpanContext?.spanId === remote.spanContext().spanId)).toBeDefined();
    exporter.reset();
    expect((await a.switchTopology('hyparview')).ok).toBe(true);
    const switched = exporter.getFinishedSpans().find((s) => s.name === 'fdn.topology.switch');
    expect(switched?.attributes).toMatchObject({ 'fdn.topology.from': 'fullMesh', 'fdn.topology.to': 'hyparview', 'fdn.node': 'a' });
    const refused = await a.switchTopology('hyparview');
    expect(refused.ok).toBe(false);
    const failed = exporter.getFinishedSpans().filter((s) => s.name === 'fdn.topology.switch')[1];
    expect(failed?.status).toMatchObject({ code: 2, message: expect.stringContaining('already_current') as unknown });
  });
});
