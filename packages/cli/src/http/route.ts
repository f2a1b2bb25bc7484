// What the operations endpoint serves: routes, each a path and what it answers. Features add
// their own routes (metrics, health) instead of the server knowing them.

/** An answer: status, content type and body. */
export interface Reply {
  status: number;
  type: string;
  body: string;
}

/** One path of the operations endpoint. */
export interface Route {
  /** The exact path (`/metrics`). */
  readonly path: string;
  /**
   * Served without the token (the probes: a kubelet cannot be given a secret header, and they tell
   * only whether the node is up and joined). Default false.
   */
  readonly public?: boolean;
  /** Answers a GET of the path. Errors become a 500 that names them. */
  get(): Promise<Reply> | Reply;
}

/** A JSON answer. */
export function json(status: number, value: unknown): Reply {
  return { status, type: 'application/json; charset=utf-8', body: `${JSON.stringify(value)}\n` };
}
