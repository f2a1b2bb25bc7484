// Promise detection without allocating: callbacks may return plain values or promises.

/** True when `value` has a callable `then` (a promise or promise-like). */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
