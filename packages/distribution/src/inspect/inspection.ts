// Inspection: every node runs a process registered as `fdn_inspector` (as every Erlang node runs
// `rex` for rpc) that answers what operators ask: processes, supervision trees, channels, the
// topology, ecosystems, a kill, a topology switch. The `fdn` command and the observer page ask it,
// from a hidden node or from the node itself. Ops register themselves (`register`): the built-in
// ones below, and features add theirs (ecosystems add `ecosystems`). Each request runs in a
// process of its own, so a slow one (a supervision tree, a call relayed to another node) holds
// up no other; a request for another node is relayed to that node's inspector.

import { GenServer } from '@fdn/actors';
import type { GenServerBehaviour, ProcessContext } from '@fdn/actors';
import { DistributionError, DistributionErrorCode } from '../errors/errors.ts';
import type { Node, NodeFeature } from '../node/node.ts';
import type { InspectOp } from './op.ts';
import { BUILT_IN_OPS } from './ops.ts';

export type { InspectOp };

/** The name the inspector is registered under on every node. */
export const INSPECTOR = 'fdn_inspector';

/** What an inspector is asked: an op, its arguments, and the node to answer (default: the one asked). */
export interface InspectRequest {
  op: string;
  args?: Record<string, unknown>;
  node?: string;
}

/** An inspector's answer: the op's value, or an error with a stable code. */
export type InspectReply = { ok: true; value: unknown } | { ok: false; code: string; message: string };


/** What the inspection feature keeps per node. */
export interface Inspection {
  /** Adds an op (a feature's own, or an application's); a name is taken once. */
  register(op: string, handler: InspectOp): void;
  /** The ops this node answers, sorted. */
  ops(): string[];
}

/** Relayed requests and requests with no deadline of their own wait at most this long. */
const RELAY_TIMEOUT_MS = 10_000;

/** Inspection as a node feature (`startNode` installs it): the ops table and the inspector process. */
export const inspection: NodeFeature<Inspection> = {
  name: 'inspection',
  install(node) {
    const ops = new Map<string, InspectOp>(Object.entries(BUILT_IN_OPS));
    const state: Inspection = {
      register(op, handler) {
        if (ops.has(op)) throw new DistributionError(DistributionErrorCode.BAD_ARGUMENT, `the inspection op '${op}' is registered already`);
        ops.set(op, handler);
      },
      ops: () => [...ops.keys()].sort(),
    };
    GenServer.start(node.runtime, inspectorBehaviour(node, ops), undefined, { name: INSPECTOR }).catch((err: unknown) => {
      node.logger.error(`the inspector did not start: fdn commands and the observer cannot reach ${node.name}`, { reason: err });
    });
    return state;
  },
};

function inspectorBehaviour(node: Node, ops: Map<string, InspectOp>): GenServerBehaviour<null, undefined, unknown, InspectReply> {
  return {
    init: () => ({ type: 'ok', state: null }),
    handleCall(request, from) {
      // Answered by a helper process: the inspector itself is never blocked.
      node.runtime.spawn(
        async (ctx) => {
          GenServer.reply(from, await answer(node, ops, request, ctx));
        },
        { label: 'fdn.inspect' },
      );
      return { type: 'noreply', state: null };
    },
  };
}

async function answer(node: Node, ops: Map<string, InspectOp>, request: unknown, ctx: ProcessContext): Promise<InspectReply> {
  try {
    const { op, args, target } = checkRequest(request);
    if (target !== undefined && target !== node.name) {
      if (!node.nodes().includes(target)) throw new DistributionError(DistributionErrorCode.NOCONNECTION, `${node.name} is not connected to '${target}': \`fdn nodes\` lists the nodes`);
      return await GenServer.call<InspectReply>(ctx, { name: INSPECTOR, node: target }, { op, args }, RELAY_TIMEOUT_MS);
    }
    const handler = ops.get(op);
    if (handler === undefined) throw new DistributionError(DistributionErrorCode.BAD_ARGUMENT, `unknown inspection op '${op}': ${node.name} answers ${[...ops.keys()].sort().join(', ')}`);
    return { ok: true, value: await handler(node, args, ctx) };
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    return { ok: false, code: typeof e.code === 'string' ? e.code : 'FDN_ERR_INSPECT_FAILED', message: typeof e.message === 'string' ? e.message : String(err) };
  }
}

function checkRequest(request: unknown): { op: string; args: Record<string, unknown>; target: string | undefined } {
  const r = request as Partial<Record<keyof InspectRequest, unknown>> | null;
  if (typeof r !== 'object' || r === null || typeof r.op !== 'string') throw new DistributionError(DistributionErrorCode.BAD_ARGUMENT, 'an inspection request is { op, args?, node? }');
  if (r.args !== undefined && (typeof r.args !== 'object' || r.args === null || Array.isArray(r.args))) throw new DistributionError(DistributionErrorCode.BAD_ARGUMENT, 'inspection args must be an object');
  if (r.node !== undefined && typeof r.node !== 'string') throw new DistributionError(DistributionErrorCode.BAD_ARGUMENT, 'an inspection request names its node with a string');
  return { op: r.op, args: (r.args ?? {}) as Record<string, unknown>, target: r.node };
}

/**
 * Asks the inspector of `at` (a node connected to `node`, or `node` itself) to answer `op` for
 * `target` (default `at`: another node's answer is relayed by `at`). Resolves with the op's value;
 * rejects with the inspector's error (its code and message) or the call's (FDN_ERR_NOPROC,
 * FDN_ERR_NOCONNECTION, FDN_ERR_CALL_TIMEOUT).
 */
export async function inspect<T = unknown>(node: Node, at: string, op: string, args: Record<string, unknown> = {}, options: { target?: string; timeoutMs?: number } = {}): Promise<T> {
  const request: InspectRequest = { op, args, node: options.target ?? at };
  const dest = at === node.name ? INSPECTOR : { name: INSPECTOR, node: at };
  const reply = await GenServer.call<InspectReply>(node.runtime, dest, request, options.timeoutMs ?? RELAY_TIMEOUT_MS + 2_000);
  if (reply.ok) return reply.value as T;
  throw new DistributionError(reply.code, reply.message);
}
