// What the operations endpoint serves: routes, each a path and what it answers. Features add
// their own routes (metrics, health, the observer) instead of the server knowing them.

/** An answer: status, content type and body. */
export interface Reply {
  status: number;
  type: string;
  body: string | Buffer;
}

/** What a route is asked with: the query, and for a POST its JSON body. */
export interface RouteRequest {
  readonly query: URLSearchParams;
  /** A POST's JSON body (bounded to 64 kB); undefined for a GET. */
  readonly body: unknown;
}

/** Sends one server-sent event to the client. */
export type SendEvent = (event: string, data: unknown) => void;

/** One path of the operations endpoint. */
export interface Route {
  /** The exact path (`/metrics`). */
  readonly path: string;
  /**
   * Served without the token (the probes: a kubelet cannot be given a secret header, and they tell
   * only whether the node is up and joined). Default false.
   */
  readonly public?: boolean;
  /** Answers a GET (and HEAD) of the path. Errors become a 500 that names them. */
  get?(request: RouteRequest): Promise<Reply> | Reply;
  /**
   * Answers a POST with a JSON body. The request must say `content-type: application/json` and
   * `x-fdn-request: 1`: a page on another origin cannot send either without a CORS preflight,
   * which this server never grants, so no other site can make a browser post here.
   */
  post?(request: RouteRequest): Promise<Reply> | Reply;
  /** A stream of server-sent events (a GET): called once per client; returns what to do when it goes. */
  events?(request: RouteRequest, send: SendEvent): () => void;
}

/** A JSON answer. */
export function json(status: number, value: unknown): Reply {
  return { status, type: 'application/json; charset=utf-8', body: `${JSON.stringify(value)}\n` };
}
