// @fdn/actors: OTP-style local processes for Node.js.

export { ActorError, CallError, ErrorCode, InvalidChildSpecError, StartError } from './errors.ts';
export type { ErrorCodeValue } from './errors.ts';
export { Pid, Ref, comparePids, isPid, isRef } from './pid/pid.ts';
export type { RemoteName } from './pid/pid.ts';
export type { DownMessage, ExitMessage, ExitReason, ShutdownReason } from './exit/reason.ts';
export { formatReason, isDownMessage, isExitMessage, isNormalExit, isShutdownReason } from './exit/reason.ts';
export { isGlobalName, TIMEOUT } from './process/types.ts';
export type {
  Dest,
  GroupName,
  Matcher,
  OverflowPolicy,
  ProcessBody,
  ProcessContext,
  GlobalName,
  SpawnOptions,
  Timeout,
  TimeoutMessage,
  CancelTimerMessage,
  TimerRef,
} from './process/types.ts';
export { Runtime, createRuntime } from './runtime/runtime.ts';
export type { RuntimeOptions } from './runtime/runtime.ts';
export type { ProcessInfo } from './runtime/introspection.ts';
export type { RemoteEndpoint, RemoteRouter } from './runtime/remote.ts';
export type { SchedulerOptions } from './scheduler/scheduler.ts';
export * as GenServer from './gen-server/gen-server.ts';
export type { CallResult, Caller, From, GenServerBehaviour, InitResult, NoReplyResult, StartOptions } from './gen-server/gen-server.ts';
export type { MaybeAsync, Then } from './gen-server/types.ts';
export * as Supervisor from './supervisor/supervisor.ts';
export type {
  AnyChildSpec,
  ChildCounts,
  ChildInfo,
  ChildSpec,
  ChildStart,
  ChildType,
  RestartType,
  Shutdown,
  Strategy,
  SupervisorInit,
  SupervisorSpec,
} from './supervisor/supervisor.ts';
export * as StateMachine from './state-machine/state-machine.ts';
export { REPLY_EVENT, replyWith } from './state-machine/state-machine.ts';
export type { InfoEvent, MachineState, StateMachineOptions } from './state-machine/state-machine.ts';
export type { InsertedEvent, StateMachineAction, StateMachineBehaviour, StateMachineEvent, StateMachineInit, StateMachineResult } from './state-machine/types.ts';
