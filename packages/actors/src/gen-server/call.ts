// call, cast, reply and stop: the client side shared by GenServer, Supervisor and StateMachine.

import { CallError, ErrorCode } from '../errors.ts';
import { DownMessageImpl, formatReason } from '../exit/reason.ts';
import type { ExitReason } from '../exit/reason.ts';
import { Pid } from '../pid/pid.ts';
import { Process, toProcess } from '../process/process.ts';
import type { ProcessHost } from '../process/process.ts';
import { isGlobalName, TIMEOUT } from '../process/types.ts';
import type { Dest, ProcessContext } from '../process/types.ts';
import type { RemoteName } from '../pid/pid.ts';
import { Runtime } from '../runtime/runtime.ts';
import { carrierOf, endWith, SpanKind, startOutgoing, tracing } from '../trace/trace.ts';
import type { Span } from '../trace/trace.ts';
import { CallReply, CallRequest, CastRequest, FromImpl, SystemRequest, TracedCallRequest, TracedCastRequest } from './messages.ts';
import type { From } from './messages.ts';

/** Who makes a request: a process, or the runtime itself for code outside any process. */
export type Caller = ProcessContext | Runtime;

/** OTP's default call timeout. */
export const DEFAULT_CALL_TIMEOUT = 5_000;

/**
 * Sends `request` to `server` and waits for its reply (default timeout 5,000 ms).
 * Throws a `CallError` with code `FDN_ERR_CALL_TIMEOUT`, `FDN_ERR_NOPROC` (dead, unknown or
 * unregistered server), `FDN_ERR_NOCONNECTION` (its node was lost) or `FDN_ERR_CALL_EXIT`
 * (it exited before replying; `reason` holds why). A reply arriving after the timeout is dropped.
 */
export function call<Reply = unknown>(caller: Caller, server: Dest, request: unknown, timeoutMs: number = DEFAULT_CALL_TIMEOUT): Promise<Reply> {
  // Taken where the call is made (a call from outside any process runs in a process of its own).
  const span = tracing() ? startOutgoing('GenServer.call', SpanKind.CLIENT, { 'rpc.system': 'fdn', 'fdn.server': serverLabel(server) }) : null;
  if (span === null) return callFrom<Reply>(caller, server, request, timeoutMs, null);
  return endWith(span, callFrom<Reply>(caller, server, request, timeoutMs, span));
}

async function callFrom<Reply>(caller: Caller, server: Dest, request: unknown, timeoutMs: number, span: Span | null): Promise<Reply> {
  if (caller instanceof Runtime) return caller.run((ctx) => callFrom<Reply>(ctx, server, request, timeoutMs, span));
  const ctx = toProcess(caller);
  const pid = resolveServer(ctx, server, 'call');
  if (pid instanceof Pid && pid.equals(ctx.self)) {
    throw new CallError(ErrorCode.CALLING_SELF, `${ctx.self} called itself; a process cannot wait for its own reply (use a cast or handle it inline)`);
  }
  // Messages already queued cannot be the reply: scan only what arrives after the request.
  const mark = ctx.queueLength;
  const ref = ctx.monitor(pid);
  ctx.activeAlias = ref;
  const from = new FromImpl(ctx.self, ref);
  ctx.send(pid, span === null ? new CallRequest(from, request) : new TracedCallRequest(from, request, carrierOf(span)));
  let msg: unknown;
  try {
    msg = await ctx.receiveFrom(mark, (m) => (m instanceof CallReply || m instanceof DownMessageImpl) && ref.equals(m.ref), timeoutMs);
  } finally {
    ctx.activeAlias = null;
  }
  if (msg instanceof CallReply) {
    ctx.demonitor(ref, { flush: true });
    return msg.value as Reply;
  }
  if (msg === TIMEOUT) {
    ctx.demonitor(ref, { flush: true });
    throw new CallError(ErrorCode.CALL_TIMEOUT, `call to ${describe(server, pid)} got no reply within ${timeoutMs} ms`, { reason: 'timeout' });
  }
  throw downToError(ctx.rt, (msg as DownMessageImpl).reason, server, pid, 'call');
}

/** Sends `request` to `server` without waiting. Never throws: a cast to a dead or unknown server is lost. */
export function cast(caller: Caller, server: Dest, request: unknown): void {
  const span = tracing() ? startOutgoing('GenServer.cast', SpanKind.PRODUCER, { 'rpc.system': 'fdn', 'fdn.server': serverLabel(server) }) : null;
  const message = span === null ? new CastRequest(request) : new TracedCastRequest(request, carrierOf(span));
  span?.end();
  try {
    if (caller instanceof Runtime) caller.send(server, message);
    else caller.send(server, message);
  } catch {
    // OTP's gen_server:cast never fails, even to an unregistered name.
  }
}

/**
 * Answers a call later (the server returned `noreply` and kept `from`). Replying twice, or to
 * a caller that gave up, is harmless.
 */
export function reply(from: From, value: unknown): void {
  const rt = (from instanceof FromImpl ? from.replier : null) ?? (from.pid._proc instanceof Process ? from.pid._proc.rt : null);
  rt?.sendFrom(null, from.pid, new CallReply(from.ref, value));
}

/**
 * Stops `server` in order: it runs its `terminate` callback and exits with `reason`; resolves
 * once it has exited. Throws `FDN_ERR_NOPROC` if it is not alive, `FDN_ERR_CALL_TIMEOUT` after
 * `timeoutMs`, and `FDN_ERR_CALL_EXIT` if it exited with another reason.
 */
export async function stop(caller: Caller, server: Dest, reason: ExitReason = 'normal', timeoutMs: number = Number.POSITIVE_INFINITY): Promise<void> {
  if (caller instanceof Runtime) return caller.run((ctx) => stop(ctx, server, reason, timeoutMs));
  const ctx = toProcess(caller);
  const pid = resolveServer(ctx, server, 'stop');
  const mark = ctx.queueLength;
  const ref = ctx.monitor(pid);
  ctx.send(pid, new SystemRequest('stop', reason));
  const msg = await ctx.receiveFrom(mark, (m) => m instanceof DownMessageImpl && ref.equals(m.ref), timeoutMs);
  if (msg === TIMEOUT) {
    ctx.demonitor(ref, { flush: true });
    throw new CallError(ErrorCode.CALL_TIMEOUT, `stop of ${describe(server, pid)} did not finish within ${timeoutMs} ms`, { reason: 'timeout' });
  }
  const down = msg as DownMessageImpl;
  if (down.reason === reason || (typeof reason === 'object' && JSON.stringify(down.reason) === JSON.stringify(reason))) return;
  throw downToError(ctx.rt, down.reason, server, pid, 'stop');
}

/** The server's state, for debugging (OTP's `sys:get_state`). */
export function getState<S = unknown>(caller: Caller, server: Dest, timeoutMs: number = DEFAULT_CALL_TIMEOUT): Promise<S> {
  return call<S>(caller, server, new SystemRequest('getState'), timeoutMs);
}

/** The server's pid, or for a name on another node that this node cannot resolve, the name itself (monitored by name there). */
function resolveServer(ctx: Process, server: Dest, op: string): Pid | RemoteName {
  if (server instanceof Pid) return server;
  if (typeof server === 'string') {
    const pid = ctx.rt.whereis(server);
    if (pid === undefined) throw new CallError(ErrorCode.NOPROC, `${op} to '${server}': no process is registered under that name`, { reason: 'noproc' });
    return pid;
  }
  if (isGlobalName(server)) {
    const pid = ctx.rt.resolveGlobal(server.global);
    if (pid === undefined) throw new CallError(ErrorCode.NOPROC, `${op} to { global: '${server.global}' }: no process is registered globally under that name`, { reason: 'noproc' });
    return pid;
  }
  if (server.node === ctx.node) {
    const pid = ctx.rt.whereis(server.name);
    if (pid === undefined) throw new CallError(ErrorCode.NOPROC, `${op} to '${server.name}': no process is registered under that name`, { reason: 'noproc' });
    return pid;
  }
  return ctx.rt.resolveRemoteName(server) ?? server;
}

function downToError(rt: ProcessHost, reason: ExitReason, server: Dest, pid: Pid | RemoteName, op: string): CallError {
  if (reason === 'noproc') return new CallError(ErrorCode.NOPROC, `${op} to ${describe(server, pid)}: the process is not alive`, { reason });
  if (reason === 'noconnection') {
    return new CallError(ErrorCode.NOCONNECTION, `${op} to ${describe(server, pid)}: ${rt.explainNoconnection(pid.node)}`, { reason });
  }
  return new CallError(ErrorCode.CALL_EXIT, `${op} to ${describe(server, pid)}: it exited before replying (${formatReason(reason)})`, { reason });
}

/** A server as a span attribute: its name, or its pid. */
function serverLabel(server: Dest): string {
  if (typeof server === 'string') return server;
  if (server instanceof Pid) return server.toString();
  return isGlobalName(server) ? `{global:${server.global}}` : `${server.name}@${server.node}`;
}

function describe(server: Dest, pid: Pid | RemoteName): string {
  if (server instanceof Pid) return server.toString();
  if (isGlobalName(server)) return `{ global: '${server.global}' } (${pid instanceof Pid ? pid.toString() : pid.name})`;
  if (!(pid instanceof Pid)) return `'${pid.name}'@${pid.node}`;
  if (typeof server === 'string') return `'${server}' (${pid})`;
  return `'${server.name}'@${server.node} (${pid})`;
}
