// @fdn/actors/internal: what only the distribution layer may use. The runtime's own message
// classes, so that a call, cast, reply, DOWN or EXIT crossing nodes arrives as the same class
// (the receiver recognises it by `instanceof`). Not for applications: no semver promise.

export * as Wire from './wire.ts';
export * as Tracing from './trace/trace.ts';
